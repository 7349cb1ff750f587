"""The benchmark protocol, implemented once: datasets, splits, seeds and the leakage check.

* Expert data: ``dataset_episodes`` episodes from the curated expert with ``dataset_seed``;
  methods train on episodes ``[0, train_episodes)``.
* Random data (BCO family): ``random_episodes`` random-policy episodes with ``random_seed``,
  created by the same Controller, cached.
* Model selection: ``validation_episodes`` episodes on validation seeds; never the test seeds.
* Test: ``test_episodes`` episodes on test seeds disjoint from every dataset and validation seed;
  the leakage check verifies that no test start state equals a training start state.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.config import from_mapping, read_yaml, with_overrides
from imitation_datasets.core.errors import ConfigError, ImitationDatasetsError
from imitation_datasets.core.names import unknown
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.seeding import (
    BENCHMARK_TEST_SEED_START,
    BENCHMARK_VALIDATION_SEED_START,
)
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.parquet import read_parquet

LEAKAGE_TOLERANCE = 1e-8
"""L∞ distance under which two start states count as the same state. Replayed seeds give
bit-identical states; distinct float32 MountainCar starts (1-D, uniform in [-0.6, -0.4]) are at
least 3e-8 apart, while a tolerance of 1e-6 would raise a false alarm for 200 training x 100 test
starts with probability ~0.2 (and ~0.6 for 1000 x 100)."""
ENVS_FILE = Path(__file__).with_name("envs.yaml")


class LeakageError(ImitationDatasetsError, RuntimeError):
    """A test start state appears in the training data: results must not be published."""


@dataclass(frozen=True)
class ProtocolSizes:
    """The seeds and sizes ``envs.yaml`` fixes for an environment.

    Its ``defaults`` section, then the environment's own section, override these.
    """

    dataset_seed: int = 0
    dataset_episodes: int = 1000
    train_episodes: int = 100
    random_seed: int = 1
    random_episodes: int = 100
    test_episodes: int = 100
    validation_episodes: int = 10
    accuracy_episodes: int = 100


@dataclass(frozen=True, kw_only=True)
class EnvProtocol(ProtocolSizes):
    """Everything the protocol fixes for one environment: its expert and its seeds and sizes."""

    expert: str
    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    def training_episodes(self, demos: int | None = None) -> int:
        """How many training episodes ``demos`` means (``None``: all ``train_episodes``).

        Raises:
            ConfigError: ``demos`` is below 1 or above ``train_episodes`` (more would reach the
                held-out accuracy episodes).
        """
        n = self.train_episodes if demos is None else demos
        if not 1 <= n <= self.train_episodes:
            raise ConfigError(f"demos: {self.expert} has {self.train_episodes} training "
                              f"episodes; got {n}")
        return n


@dataclass(frozen=True)
class _EnvsFile:
    """The layout of ``envs.yaml``: shared defaults, one section per expert key, the families."""

    defaults: ProtocolSizes = field(default_factory=ProtocolSizes)
    envs: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    families: dict[str, list[str]] = field(default_factory=dict)


def _envs_file(path: Path) -> _EnvsFile:
    table = from_mapping(_EnvsFile, read_yaml(path), path.name)
    seen: dict[str, str] = {}
    for family, members in table.families.items():
        if family in table.envs:
            raise ConfigError(f"{path.name} [families.{family}]: a family cannot be named like "
                              "an environment")
        for env in members:
            if env not in table.envs:
                raise ConfigError(f"{path.name} [families.{family}]: {env!r} has no section "
                                  "under envs")
            if env in seen:
                raise ConfigError(f"{path.name} [families.{family}]: {env} is already in "
                                  f"family {seen[env]}")
            seen[env] = family
    return table


@functools.cache
def protocol_table(path: Path = ENVS_FILE) -> dict[str, ProtocolSizes]:
    """The seeds and sizes of every benchmark environment, by expert key, in file order.

    Raises:
        ConfigError: ``path`` has an unknown key (named, with the closest known ones), a value
            of the wrong type, or a family naming an unknown environment or one already in
            another family.
    """
    table = _envs_file(path)
    return {name: with_overrides(table.defaults, section, f"{path.name} [envs.{name}]")
            for name, section in table.envs.items()}


def env_families(path: Path = ENVS_FILE) -> dict[str, list[str]]:
    """The environment families of ``envs.yaml``: each one grid, one results folder, one report.

    ``classic`` is the classic-control grid (with LunarLander), ``mujoco`` the MuJoCo v5 envs,
    ``box2d`` the continuous Box2D envs.
    """
    return {family: list(members) for family, members in _envs_file(path).families.items()}


def expand_families(names: Sequence[str]) -> list[str]:
    """``names`` with each family name replaced by its environments (``mujoco,box2d``)."""
    families = env_families()
    return [env for name in names for env in families.get(name, [name])]


def env_protocol(name: str) -> EnvProtocol:
    """The protocol of one environment, by expert key or Gymnasium id."""
    from imitation_datasets.experts.registry import Experts

    table = protocol_table()
    try:
        expert = Experts.get_expert(name)
    except LookupError:
        raise unknown("benchmark environment", name, table) from None
    key = next((k for k in table if Experts.get_expert(k) is expert), None)
    if key is None:
        raise unknown("benchmark environment", name, table)
    return EnvProtocol(expert=key, env_id=expert.env_id, env_kwargs=dict(expert.env_kwargs),
                       **asdict(table[key]))


def cell_demos_count(cell: dict[str, Any], facts: dict[str, Any]) -> int:
    """A cell result's demonstration episodes.

    Cells written before ``demos`` was recorded trained on the protocol's ``train_episodes``.
    """
    default = facts.get("protocol", {}).get("train_episodes", 0)
    return int(cell.get("demos") or default)


def is_probe(cells: Sequence[dict[str, Any]]) -> bool:
    """Whether a folder's cells are a probe (another budget or config), not the protocol.

    A probe's report judges no target and counts no planned grid.
    """
    return any(c.get("budget_scale", 1) != 1 or c.get("config_overrides") for c in cells)


def table_cells(cells: list[dict[str, Any]], envs: dict[str, dict[str, Any]]
                ) -> list[dict[str, Any]]:
    """The cells of the results table, per (env, method).

    Those on the protocol's number of demonstrations, or else on the largest number run (the
    table marks such rows). Cells on the other numbers belong to the sample-efficiency curves.
    """
    best: dict[tuple[str, str], int] = {}
    for cell in cells:
        facts = envs[cell["env"]]
        n = cell_demos_count(cell, facts)
        key = (cell["env"], cell["method"])
        default = facts.get("protocol", {}).get("train_episodes")
        kept = best.get(key)
        if kept is None or (kept != default and (n == default or n > kept)):
            best[key] = n
    return [c for c in cells
            if cell_demos_count(c, envs[c["env"]]) == best[(c["env"], c["method"])]]


def env_key(name: str) -> str:
    """The one name of a benchmark environment (its expert key) for any accepted spelling.

    ``CartPole-v1`` and ``cartpole`` both give ``cartpole``: cells, facts files and the report
    are keyed by it, so a run started with either spelling resumes the other's work.
    """
    return env_protocol(name).expert


def _seed_stream(start: int, count: int, exclude: set[int]) -> list[int]:
    seeds: list[int] = []
    candidate = start
    while len(seeds) < count:
        if candidate not in exclude:
            seeds.append(candidate)
        candidate += 1
    return seeds


@dataclass
class Splits:
    """Seeds and data of one environment's protocol."""

    protocol: EnvProtocol
    dataset_dir: Path
    random_dir: Path
    validation_seeds: list[int]
    test_seeds: list[int]

    @functools.cached_property
    def dataset(self) -> tuple[DatasetArrays, dict[str, Any]]:
        """The full expert dataset and its metadata."""
        return read_parquet(self.dataset_dir)

    @functools.cached_property
    def random_data(self) -> tuple[DatasetArrays, dict[str, Any]]:
        """The random-policy dataset and its metadata."""
        return read_parquet(self.random_dir)

    @property
    def random(self) -> DatasetArrays:
        """The random-policy dataset."""
        return self.random_data[0]

    @property
    def train(self) -> DatasetArrays:
        """Training episodes ``[0, train_episodes)``."""
        return self.training()

    def training(self, demos: int | None = None) -> DatasetArrays:
        """The first ``demos`` training episodes (default: all ``train_episodes`` of them).

        Fewer demonstrations are a prefix of the same episodes, so a sample-efficiency curve
        compares nested datasets.

        Raises:
            ConfigError: ``demos`` is out of range (:meth:`EnvProtocol.training_episodes`).
        """
        return self.dataset[0].select(range(self.protocol.training_episodes(demos)))

    @property
    def held_out(self) -> DatasetArrays:
        """Expert episodes used only to measure action accuracy."""
        start = self.protocol.train_episodes
        return self.dataset[0].select(range(start, start + self.protocol.accuracy_episodes))

    @property
    def expert_return(self) -> float:
        """The dataset's mean return (the expert term of the performance metric)."""
        return float(self.dataset[1]["returns"]["mean"])


def prepare(name: str, data_dir: str | Path, workers: int = 2, progress: bool = False) -> Splits:
    """Create (or reuse) the expert and random datasets of ``name`` and fix its seeds."""
    from imitation_datasets.collect.controller import Controller
    from imitation_datasets.collect.functions import baseline_collate, baseline_enjoy, random_enjoy
    from imitation_datasets.experts.registry import Experts

    protocol = env_protocol(name)
    data_dir = Path(data_dir)
    expert = Experts.get_expert(protocol.expert)
    dataset_dir = Controller(
        baseline_enjoy, baseline_collate, protocol.dataset_episodes, workers, data_dir,
        seed=protocol.dataset_seed, expert=expert, progress=progress,
        command=f"imitation_datasets.benchmark.protocol.prepare({protocol.expert!r})",
    ).start({"game": protocol.expert, "mode": "all"})
    random_dir = Controller(
        random_enjoy, baseline_collate, protocol.random_episodes, workers, data_dir,
        seed=protocol.random_seed, expert=expert, progress=progress,
        command=f"imitation_datasets.benchmark.protocol.prepare({protocol.expert!r}) [random]",
    ).start({"game": f"{protocol.expert}-random", "mode": "all"})
    used = set(read_parquet(dataset_dir)[0].seeds.tolist())
    used |= set(read_parquet(random_dir)[0].seeds.tolist())
    validation = _seed_stream(BENCHMARK_VALIDATION_SEED_START, protocol.validation_episodes, used)
    test = _seed_stream(BENCHMARK_TEST_SEED_START, protocol.test_episodes, used | set(validation))
    return Splits(protocol, dataset_dir, random_dir, validation, test)


def start_states(env_id: str, seeds: list[int], env_kwargs: dict[str, Any] | None = None
                 ) -> np.ndarray:
    """Observation returned by ``reset(seed=s)`` for each seed."""
    env = make_env(env_id, env_kwargs)
    try:
        return np.stack([np.asarray(env.reset(seed=int(s))[0]) for s in seeds])
    finally:
        env.close()


@dataclass(frozen=True)
class LeakageReport:
    """Result of the leakage check."""

    passed: bool
    test_seeds: int
    training_start_states: int
    min_distance: float
    overlapping_test_seeds: list[int]
    seed_overlap: list[int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"passed": self.passed, "test_seeds": self.test_seeds,
                "training_start_states": self.training_start_states,
                "min_distance": self.min_distance,
                "overlapping_test_seeds": self.overlapping_test_seeds,
                "seed_overlap": self.seed_overlap, "tolerance": LEAKAGE_TOLERANCE}


def leakage_check(test_seeds: list[int], test_starts: np.ndarray, training: list[DatasetArrays],
                  tolerance: float = LEAKAGE_TOLERANCE) -> LeakageReport:
    """Compare every test start state with every training start state (L-inf distance).

    Also reports test seeds that were used to reset a training episode.
    """
    train_starts = np.concatenate([a.obs[a.starts] for a in training]).reshape(
        -1, int(np.prod(test_starts.shape[1:])))
    tests = test_starts.reshape(len(test_starts), -1).astype(np.float64)
    train = train_starts.astype(np.float64)
    overlapping, best = [], np.inf
    for chunk in range(0, len(train), 4096):
        dist = np.abs(tests[:, None, :] - train[None, chunk:chunk + 4096, :]).max(axis=2)
        best = min(best, float(dist.min()))
        overlapping.extend(np.flatnonzero(dist.min(axis=1) <= tolerance).tolist())
    used = {int(s) for a in training for s in a.seeds.tolist()}
    seed_overlap = sorted(int(s) for s in test_seeds if int(s) in used)
    bad = sorted({int(test_seeds[i]) for i in overlapping})
    return LeakageReport(not bad and not seed_overlap, len(test_seeds), len(train), best, bad,
                         seed_overlap)
