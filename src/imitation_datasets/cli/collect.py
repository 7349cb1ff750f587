"""``il-datasets collect``: create a dataset with a curated expert (or random actions).

Its options are :class:`~imitation_datasets.collect.options.CollectOptions` (the Controller's),
plus the environment and the output folder.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.cli.datasets import describe
from imitation_datasets.cli.errors import fail
from imitation_datasets.collect.options import CLI_FLAGS, CollectOptions
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.names import UnknownNameError


@dataclass(frozen=True)
class CollectTarget:
    """What ``il-datasets collect`` collects and where it writes it."""

    env: str = field(metadata={"help": "expert name or Gymnasium id (e.g. cartpole, CartPole-v1)"})
    out: Path | None = field(default=None, metadata={
        "help": "dataset directory (default: ./dataset/<env>)"})

    @property
    def folder(self) -> Path:
        """The dataset folder."""
        return self.out if self.out is not None else Path("dataset") / self.env


def resolve_expert(name: str, random: bool) -> Any:
    """The curated expert ``name``; with ``random``, also any registered Gymnasium id."""
    from imitation_datasets.experts.registry import Experts

    try:
        return Experts.get_expert(name)
    except UnknownNameError:
        if not random:
            raise
    import gymnasium as gym

    from imitation_datasets.core.names import unknown
    from imitation_datasets.experts.policy import CallablePolicy

    if name not in gym.registry:
        raise unknown("environment", name, list(gym.registry) + Experts.names())
    return CallablePolicy(lambda obs: None, env_id=name, name="random")


def check_out_folder(out: Path) -> None:
    """Refuse an ``--out`` that is, or lies inside, something other than a folder."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError(f"{folder}: exists and is not a directory (--out {out})")
            return


def run_collect(target: CollectTarget, options: CollectOptions, argv: Sequence[str] = ()) -> int:
    """Create a dataset; exit status 1 when the collection cannot finish."""
    from imitation_datasets.collect.controller import CollectionError, Controller

    expert = resolve_expert(target.env, options.random)
    out = target.folder
    check_out_folder(out)
    controller = Controller.from_options(
        dataclasses.replace(options, path=str(out.parent)), expert=expert,
        command="il-datasets " + " ".join(shlex.quote(a) for a in argv))
    try:
        path = controller.start({"game": out.name, "mode": "all"})
    except CollectionError as exc:
        return fail(exc, 1, kind="collection stopped: ")
    print(f"dataset written to {path}")
    print(describe(path))
    return 0


COLLECT = Command(
    "collect", "create a dataset with a curated expert",
    (Options(CollectTarget), Options(CollectOptions, flags=CLI_FLAGS, skip=("path",))),
    run_collect, target=lambda target, options: target.folder)
