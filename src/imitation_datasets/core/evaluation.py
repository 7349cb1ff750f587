"""The one function that measures a policy: seeded episodes, returns in seed order."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from imitation_datasets.core.rollout import make_env, play, play_available


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


def evaluate_available(
    policy: Any,
    env_id: str,
    seeds: Sequence[int],
    count: int,
    env_kwargs: dict[str, Any] | None = None,
    n_envs: int = 16,
    max_failures: int = 0,
) -> tuple[np.ndarray, list[int], list[int]]:
    """Like :func:`evaluate_policy` on the first ``count`` seeds whose episodes do not raise.

    An environment that raises for some seeds would otherwise make the evaluation impossible;
    here such a seed is skipped for the next one of ``seeds`` (at most ``max_failures`` times).
    Which seeds are used depends only on which seeds fail: the result is deterministic.

    Returns:
        The returns (float64, in seed order), the seeds they were played on, and the seeds whose
        episode raised.

    Raises:
        RuntimeError: more than ``max_failures`` episodes raised, or the seeds ran out.
    """
    episodes, failed = play_available(
        partial(make_env, env_id, env_kwargs), seeds, count, policy=policy, n_envs=n_envs,
        random_actions=policy is None, record=False, max_failures=max_failures,
    )
    returns = np.array([episode.episode_return for episode in episodes], dtype=np.float64)
    used = [episode.seed for episode in episodes if episode.seed is not None]  # the runner sets it
    return returns, used, failed
