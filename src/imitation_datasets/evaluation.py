"""The one function that measures a policy: seeded episodes, returns in seed order."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from imitation_datasets.collect.rollout import make_env, play


def evaluate_policy(
    policy: Any,
    env_id: str,
    seeds: Sequence[int],
    env_kwargs: dict[str, Any] | None = None,
    n_envs: int = 16,
) -> np.ndarray:
    """Play one deterministic episode per seed and return the episode returns (float64).

    Args:
        policy: anything with ``predict(obs_batch, deterministic=True)``; ``None`` plays
            uniformly random actions seeded with each episode's seed.
        env_id: Gymnasium id.
        seeds: reset seeds, one episode each.
        env_kwargs: extra ``gym.make`` arguments.
        n_envs: environments stepped together (results do not depend on it).
    """
    episodes = play(
        partial(make_env, env_id, env_kwargs),
        list(seeds),
        policy=policy,
        n_envs=n_envs,
        random_actions=policy is None,
        record=False,
    )
    return np.array([episode.episode_return for episode in episodes], dtype=np.float64)
