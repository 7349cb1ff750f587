"""Typed configuration: frozen dataclasses filled from YAML/JSON mappings, with did-you-mean errors.

Every configuration in the package (method hyperparameters, expert recipes, expert cards, the
benchmark's env protocols, the CLI's options) is a frozen dataclass; this module is the one
loader that turns a mapping read from a file into one, and the one place that applies
overrides (a per-env YAML section, a ``--set key=value``). A subclass that changes defaults only
redeclares the fields that differ.

Checks: every key must be a field (the error names the closest fields), every value must have the
field's annotated type (an ``int`` is accepted for a ``float``; a ``bool`` is never an ``int``),
nested dataclasses are built recursively, and the location of the bad value (file and section)
is in the one-line :class:`~imitation_datasets.core.errors.ConfigError`. YAML is read with
``yaml.safe_load`` from a size-bounded regular file: nothing in it is evaluated.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.safe_read import read_bytes

T = TypeVar("T")
MAX_CONFIG_BYTES = 1 << 20
"""Largest configuration file read (1 MiB)."""


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping read with ``yaml.safe_load`` from a regular file of at most 1 MiB.

    Raises:
        ConfigError: the file is missing, too big, not YAML, or not a mapping.
    """
    import yaml

    try:
        text = read_bytes(path, MAX_CONFIG_BYTES).decode("utf-8")
        data = yaml.safe_load(text)
    except (OSError, ValueError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must hold a mapping, got {type(data).__name__}")
    return data


def option(default: Any, help: str, **metadata: Any) -> Any:  # noqa: A002 - argparse's word
    """A dataclass field with a default and its help text (``metadata["help"]``).

    The CLI (:mod:`imitation_datasets.cli.arguments`) shows the help and the default in
    ``--help``; extra ``metadata`` (e.g. ``flag="--out"``) is passed through.
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError("option(): use an immutable default (a tuple), not a mutable one")
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


def from_mapping(cls: type[T], data: Mapping[str, Any] | None, where: str) -> T:
    """Build the dataclass ``cls`` from ``data`` after checking every key and value.

    Fields missing from ``data`` keep their defaults (a field without a default is required).

    Args:
        cls: a dataclass (usually frozen).
        data: the mapping read from a file or built by the CLI (``None``: all defaults).
        where: where ``data`` came from, for messages (``"bc.yaml [CartPole-v1]"``).

    Raises:
        ConfigError: an unknown key, a missing required field or a value of the wrong type.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {type(data).__name__}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key {key!r}{_did_you_mean(str(key), fields)}")
        values[key] = _convert(hints[key], value, f"{where}: {key!r}")
    missing = [name for name, f in fields.items() if name not in values and f.init
               and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(map(repr, missing))}")
    return cls(**values)


def with_overrides(config: T, overrides: Mapping[str, Any] | None, where: str) -> T:
    """``config`` with the fields named in ``overrides`` replaced (checked as :func:`from_mapping`).

    Nested dataclass fields are overridden field by field, not replaced whole.
    """
    if not overrides:
        return config
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {type(overrides).__name__}")
    cls = type(config)
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(config)]  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names:
            raise ConfigError(f"{where}: unknown key {key!r}{_did_you_mean(str(key), names)}")
        current = getattr(config, key)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            changes[key] = with_overrides(current, value, f"{where}.{key}")
        else:
            changes[key] = _convert(hints[key], value, f"{where}: {key!r}")
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]


def to_mapping(config: Any) -> dict[str, Any]:
    """A JSON-ready mapping of a configuration dataclass (tuples become lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value
    return plain(dataclasses.asdict(config))


@functools.cache
def _cached_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _hints(cls: Any) -> dict[str, Any]:
    return _cached_hints(cls)


def _did_you_mean(key: str, known: Any) -> str:
    known = list(known)
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.5)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return f"; known keys: {', '.join(sorted(known))}"


def _type_name(hint: Any) -> str:
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "")


def _convert(hint: Any, value: Any, where: str) -> Any:
    """``value`` checked against ``hint`` and normalised (list -> tuple, int -> float)."""
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where} must be {_type_name(hint)}, got {value!r}")
    if origin is Literal:
        if value in get_args(hint) and not isinstance(value, bool):
            return value
        choices = ", ".join(repr(v) for v in get_args(hint))
        raise ConfigError(f"{where} must be one of {choices}, got {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        args = get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where} must hold {len(args)} values, got {value!r}")
            items = [_convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value))]
        else:
            item = args[0] if args else Any
            items = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping, got {value!r}")
        key_type, item_type = get_args(hint) or (Any, Any)
        return {_convert(key_type, k, where): _convert(item_type, v, f"{where}[{k!r}]")
                for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        return from_mapping(hint, value, where)
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is type(None):
        if value is None:
            return None
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"{where} must be {_type_name(hint)}, got {value!r}")
