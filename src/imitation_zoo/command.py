"""What the zoo's command-line modules (``train``, ``levels``) share: parsing and recipe names."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from typing import Any

from imitation_datasets.cli.arguments import OneLineParser, Options
from imitation_datasets.core.errors import ConfigError
from imitation_zoo.recipe import recipe_keys


def check_recipe_key(key: str) -> None:
    """Raise :class:`ConfigError` (with the closest names) when no recipe is called ``key``."""
    keys = recipe_keys()
    if key not in keys:
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(keys)}"
        raise ConfigError(f"no recipe {key!r}; {hint}")


def check_positive(options: Any, names: Sequence[str]) -> None:
    """Raise :class:`ConfigError` when one of the fields ``names`` is set but not positive."""
    for name in names:
        value = getattr(options, name)
        if value is not None and value <= 0:
            raise ConfigError(f"{name} must be positive, got {value!r}")


def parse_options(cls: type, argv: Sequence[str] | None, prog: str, description: str
                  ) -> tuple[Any, OneLineParser]:
    """``cls`` filled from ``argv``, and the parser (for later one-line errors).

    A bad argument exits with one line (status 2); logging goes to stderr from here on.
    """
    options = Options(cls)
    parser = OneLineParser(prog=prog, description=description)
    options.add_to(parser)
    try:
        args = options.build(parser.parse_args(argv), parser.prog)
    except ConfigError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return args, parser
