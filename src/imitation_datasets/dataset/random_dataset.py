"""IL-Datasets 1.0.0's ``get_random_dataset``: a random-policy dataset made by the Controller."""

from __future__ import annotations

from typing import Any

from imitation_datasets.collect.controller import Controller
from imitation_datasets.collect.functions import baseline_collate, random_enjoy
from imitation_datasets.dataset.dataset import BaselineDataset
from imitation_datasets.experts.policy import CallablePolicy

DATASET_ROOT = "./dataset/"
"""Where 1.0.0 wrote its datasets (``<root>random_<env>/``)."""


def _no_action(obs: Any) -> None:
    """Placeholder policy: ``random_enjoy`` plays seeded uniformly random actions instead."""
    return None


def create_dataset(environment_name: str, episodes: int = 10000, threads: int = 4,
                   seed: int = 0) -> str:
    """Collect ``episodes`` seeded random-action episodes of Gymnasium id ``environment_name``.

    The folder ``./dataset/random_<environment_name>/`` is replaced by this dataset (as in
    1.0.0); the same arguments give the same data, and a rerun finds it complete.

    Returns:
        The path of its ``teacher.npz`` (1.0.0's return value).
    """
    folder = f"random_{environment_name}"
    policy = CallablePolicy(_no_action, environment_name, name="random",
                            identity=f"random:{environment_name}")
    Controller(random_enjoy, baseline_collate, episodes, threads, DATASET_ROOT, expert=policy,
               seed=seed, overwrite=True).start({"game": folder, "mode": "all"})
    return f"{DATASET_ROOT}{folder}/teacher.npz"


def get_random_dataset(environment_name: str, episodes: int = 10000, threads: int = 4,
                       seed: int = 0) -> BaselineDataset:
    """:func:`create_dataset` loaded as a ``BaselineDataset`` (its ``teacher.npz``, as 1.0.0)."""
    return BaselineDataset(create_dataset(environment_name, episodes, threads, seed))
