"""Training tasks built from the curated experts, shared by the method tests."""

from __future__ import annotations

from functools import partial

import numpy as np

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import TrainingTask

VALIDATION = [2_500_000_000 + k for k in range(5)]
TEST = [3_500_000_000 + k for k in range(5)]


def expert_data(key: str, episodes: int) -> DatasetArrays:
    """``episodes`` episodes of the curated expert ``key`` (reset seeds ``episode_seed(0, i)``)."""
    expert = Experts.get_expert(key).load()
    env_fn = partial(make_env, expert.env_id, None)
    return DatasetArrays.from_episodes(
        play(env_fn, [episode_seed(0, i) for i in range(episodes)], policy=expert))


def random_data(env_id: str, episodes: int) -> DatasetArrays:
    """``episodes`` seeded random-action episodes (reset seeds ``episode_seed(1, i)``)."""
    env_fn = partial(make_env, env_id, None)
    return DatasetArrays.from_episodes(
        play(env_fn, [episode_seed(1, i) for i in range(episodes)], random_actions=True))


def make_task(env_id: str, expert: DatasetArrays, seeds: list[int],
              random: DatasetArrays | None = None, interaction_seed: int = 7,
              success_threshold: bool = False, expert_policy: object = None) -> TrainingTask:
    """A task on ``expert``'s episodes; the references are measured on ``seeds``.

    ``success_threshold``: use the lowest expert return as the task's success threshold.
    """
    return TrainingTask(
        env_id=env_id, env_kwargs={}, expert=expert, random=random, validation_seeds=seeds,
        expert_return=float(expert.returns.mean()),
        random_return=float(evaluate_policy(None, env_id, seeds).mean()),
        success_threshold=float(np.min(expert.returns)) if success_threshold else None,
        interaction_seed=interaction_seed, expert_policy=expert_policy)
