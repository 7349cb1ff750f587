"""The benchmark's run options, typed: :class:`BenchmarkOptions` (``il-datasets benchmark``).

Every field's ``metadata["help"]`` is its help text; the CLI generates its arguments from this
class. The protocol itself (seeds, splits, sizes) is not an option: it is ``envs.yaml``.
This module imports nothing heavy, so ``--help`` does not load the benchmark code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from imitation_datasets.core.config import option
from imitation_datasets.core.errors import ConfigError

METHODS = ("bc", "bco", "abco", "iupe", "dagger", "gail", "gaifo", "airl", "sqil",
           "iq_learn_offline", "iq_learn_online")
"""Every shipped method, in the report's order (a test keeps it equal to the registry)."""

SAMPLE_EFFICIENCY_DEMOS = (1, 5, 10, 25, 100)
"""Demonstration counts of the published sample-efficiency curves."""
ENVS = ("cartpole", "acrobot", "mountaincar", "lunarlander", "pendulum", "mountaincarcontinuous")
"""The benchmark environments, in ``envs.yaml`` order."""
CLI_FLAGS = {"ray_address": "--address", "progress": "--quiet", "overrides": "--set"}
"""Fields whose ``il-datasets benchmark`` flag is not ``--<field-name>``."""
CLI_ALIASES = {"workers": ("--jobs",)}
"""Old flag spellings still accepted (``--jobs`` is in the command of published reports)."""


def parse_config_overrides(text: str) -> dict[str, Any]:
    """The config fields a ``--set`` JSON object sets (checked against configs later).

    Raises:
        ConfigError: not JSON, or not a non-empty JSON object.
    """
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"not JSON ({exc})") from None
    if not isinstance(fields, dict) or not fields:
        raise ConfigError(f"expected a JSON object of config fields, got {text!r:.80}")
    return fields


def method_rank(name: str) -> int:
    """A method's place in the report's order: its index in ``METHODS``, others after them."""
    return METHODS.index(name) if name in METHODS else len(METHODS)


def method_order(names: Iterable[str]) -> list[str]:
    """``names`` without repeats in the report's order: ``METHODS``' first, others after as given.

    A report's rows keep this order whichever cells ran first, so a table does not reshuffle as
    a grid fills in.
    """
    return sorted(dict.fromkeys(names), key=method_rank)


@dataclass(frozen=True)
class BenchmarkOptions:
    """What ``il-datasets benchmark`` runs, where, and how fast (not what: that is the protocol).

    Only ``methods``, ``envs`` and ``seeds`` change which numbers are reported; every cell's
    numbers depend on the protocol alone.
    """

    methods: tuple[str, ...] = option(METHODS, "methods to train, comma-separated")
    envs: tuple[str, ...] = option(
        ENVS, "environments, comma-separated, by expert key or Gymnasium id, or families of "
        "envs.yaml (classic, mujoco, box2d)")
    seeds: int = option(5, "training seeds 0..N-1 (from --first-seed on)")
    first_seed: int = option(
        0, "first training seed: seeds FIRST..FIRST+N-1 (--first-seed 2 --seeds 1: seed 2 "
        "alone, e.g. a budget probe of the one seed that missed)")
    demos: tuple[int, ...] = option(
        (), "demonstration episodes to train on, comma-separated, e.g. 1,5,10,25,100 for "
        "sample-efficiency curves (default: the protocol's train_episodes, 100)")
    out: Path = option(
        Path("benchmark_out"), "results folder (finished cells there are not run again; the "
        "report covers every cell in it)")
    budget_scale: float = option(
        1.0, "a budget probe, not the protocol: every method's training budget (epochs, "
        "iterations or environment steps: its config's budget_fields) times this; use its own "
        "--out, RESULTS/probes/NAME for the report of RESULTS to read it against the targets "
        "(the cells record it)")
    overrides: str | None = option(
        None, "a config probe, not the protocol: config fields set for every method, as a JSON "
        "object, e.g. '{\"absorbing\": true}' (an ablation or a sweep point); use its own --out "
        "(the cells record it; a folder holds one config per method and env)")
    overwrite: bool = option(
        False, "rerun finished cells made with another config of their method (without it "
        "such cells stop the run)")
    data: Path = option(
        Path("benchmark_data"), "where the protocol's datasets are created and cached")
    workers: int = option(
        2, "cells run in parallel (and worker processes that create the datasets)")
    backend: Literal["local", "ray"] = option(
        "local", "local worker processes or Ray tasks (both give the same numbers)")
    ray_address: str | None = option(
        None, "Ray cluster address (e.g. auto or HOST:6379; default: a local Ray)")
    progress: bool = option(True, "show a progress bar")
    stop_after: float | None = option(
        None, "stop after this many seconds (local backend): cells not finished by then are "
        "dropped unwritten and the report covers the finished ones; rerun to continue")

    def __post_init__(self) -> None:
        if not self.methods:
            raise ConfigError("methods must name at least one method")
        if not self.envs:
            raise ConfigError("envs must name at least one environment")
        if self.seeds < 1:
            raise ConfigError(f"seeds must be >= 1, got {self.seeds!r}")
        if self.first_seed < 0:
            raise ConfigError(f"first_seed must be >= 0, got {self.first_seed!r}")
        if any(n < 1 for n in self.demos):
            raise ConfigError(f"demos must be >= 1 each, got {list(self.demos)!r}")
        if not self.budget_scale > 0:
            raise ConfigError(f"budget_scale must be > 0, got {self.budget_scale!r}")
        if self.overrides is not None:
            self.config_overrides()  # a malformed one fails here, before any work
        if self.stop_after is not None and not self.stop_after > 0:
            raise ConfigError(f"stop_after must be > 0 seconds, got {self.stop_after!r}")
        if self.stop_after is not None and self.backend == "ray":
            raise ConfigError("stop_after works with the local backend only")
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers!r}")

    def config_overrides(self) -> dict[str, Any] | None:
        """``--set`` parsed: the config fields it sets (``None``: the protocol's config).

        Raises:
            ConfigError: not a JSON object.
        """
        return None if self.overrides is None else parse_config_overrides(self.overrides)
