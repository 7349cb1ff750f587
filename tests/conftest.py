"""Shared fixtures: a cheap deterministic CartPole policy so Controller tests need no training."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.experts.policy import CallablePolicy

DATA_FILES = ("steps.parquet", "episodes.parquet", "metadata.json", "teacher.npz", "README.md")


def balance(obs: np.ndarray) -> np.ndarray:
    """Push the cart toward the side the pole falls to (reaches 500 on most seeds)."""
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)


def heuristic_policy(threshold: float = 0.0) -> CallablePolicy:
    return CallablePolicy(balance, "CartPole-v1", threshold=threshold, name="balance-heuristic")


def make_dataset(path: Path, episodes: int, random: bool = False, threads: int = 2,
                 name: str = "cp") -> Path:
    """A small CartPole dataset made by the Controller with the heuristic (or random) policy."""
    from imitation_datasets.controller import Controller
    from imitation_datasets.functions import baseline_collate, baseline_enjoy, random_enjoy

    controller = Controller(random_enjoy if random else baseline_enjoy, baseline_collate,
                            episodes=episodes, threads=threads, path=path,
                            expert=heuristic_policy(), progress=False)
    return controller.start({"game": name, "mode": "all"})


@pytest.fixture
def cartpole_policy() -> CallablePolicy:
    return heuristic_policy()


def digests(directory: Path, files=DATA_FILES) -> dict[str, str]:
    """sha256 of each dataset file (the byte-identity checks compare these)."""
    return {name: hashlib.sha256((Path(directory) / name).read_bytes()).hexdigest()
            for name in files}


@pytest.fixture(scope="module")
def random_cartpole(tmp_path_factory) -> Path:
    """A 6-episode random-action CartPole dataset, one per test module (the interop tests)."""
    return make_dataset(tmp_path_factory.mktemp("random-cartpole"), 6, random=True, name="rnd")


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (as the benchmark's cells run), restored afterwards."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def bench_data_dir(tmp_path_factory):
    """One benchmark data folder for the session (the protocol's datasets are made once)."""
    return tmp_path_factory.mktemp("bench_data")
