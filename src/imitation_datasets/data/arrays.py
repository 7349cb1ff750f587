"""The in-memory form of a dataset: contiguous arrays plus per-episode tables.

Every reader returns a :class:`DatasetArrays` and every writer takes one, so conversions between
formats (Parquet, npz, HuggingFace, Minari) are compositions of two small functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imitation_datasets.collect.episode import Episode


@dataclass
class DatasetArrays:
    """Steps concatenated over episodes, in episode order.

    Attributes:
        obs: ``(T, *obs_shape)`` observations.
        actions: ``(T,)`` integers (discrete) or ``(T, *act_shape)`` floats.
        rewards: ``(T,)`` float64.
        terminated: ``(T,)`` bool, true only on the last step of an episode that terminated.
        truncated: ``(T,)`` bool, true only on the last step of an episode that was truncated.
        lengths: ``(E,)`` int64 steps per episode.
        final_obs: ``(E, *obs_shape)`` observation after each episode's last step, or ``None``
            when the source did not keep it (the original IL-Datasets layout).
        seeds: ``(E,)`` int64 reset seeds (``-1`` when unknown).
        attempts: ``(E,)`` int64 attempts needed to accept each episode (``1`` when unknown).
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    lengths: np.ndarray
    final_obs: np.ndarray | None
    seeds: np.ndarray
    attempts: np.ndarray

    def __post_init__(self) -> None:
        total = int(self.lengths.sum())
        for name in ("obs", "actions", "rewards", "terminated", "truncated"):
            if len(getattr(self, name)) != total:
                raise ValueError(
                    f"{name} has {len(getattr(self, name))} rows but episode lengths sum to {total}"
                )
        episodes = len(self.lengths)
        for name in ("seeds", "attempts"):
            if len(getattr(self, name)) != episodes:
                raise ValueError(
                    f"{name} has {len(getattr(self, name))} rows for {episodes} episodes"
                )
        if self.final_obs is not None and len(self.final_obs) != episodes:
            raise ValueError(f"final_obs has {len(self.final_obs)} rows for {episodes} episodes")
        if np.any(self.lengths < 1):
            raise ValueError("every episode needs at least one step")

    @property
    def n_episodes(self) -> int:
        """Number of episodes."""
        return len(self.lengths)

    @property
    def n_steps(self) -> int:
        """Number of steps (rows)."""
        return len(self.rewards)

    @property
    def starts(self) -> np.ndarray:
        """Row index of each episode's first step."""
        return np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    @property
    def episode_starts(self) -> np.ndarray:
        """``(T,)`` bool, true on each episode's first step (the original layout's column)."""
        flags = np.zeros(self.n_steps, dtype=bool)
        flags[self.starts] = True
        return flags

    @property
    def episode_index(self) -> np.ndarray:
        """``(T,)`` int64 episode number of each row."""
        return np.repeat(np.arange(self.n_episodes, dtype=np.int64), self.lengths)

    @property
    def returns(self) -> np.ndarray:
        """``(E,)`` float64 episode returns (sum of rewards in float64)."""
        return np.add.reduceat(self.rewards.astype(np.float64), self.starts) if self.n_steps else \
            np.zeros(0)

    @classmethod
    def from_episodes(cls, episodes: Sequence[Episode]) -> DatasetArrays:
        """Concatenate episodes (one copy of each array; linear in the total size)."""
        if not episodes:
            raise ValueError("a dataset needs at least one episode")
        return cls(
            obs=np.concatenate([e.obs for e in episodes]),
            actions=np.concatenate([e.actions for e in episodes]),
            rewards=np.concatenate([e.rewards for e in episodes]).astype(np.float64, copy=False),
            terminated=np.concatenate([_last_flag(e.length, e.terminated) for e in episodes]),
            truncated=np.concatenate([_last_flag(e.length, e.truncated) for e in episodes]),
            lengths=np.array([e.length for e in episodes], dtype=np.int64),
            final_obs=np.stack([e.final_obs for e in episodes]),
            seeds=np.array([-1 if e.seed is None else e.seed for e in episodes], dtype=np.int64),
            attempts=np.array([e.attempt + 1 for e in episodes], dtype=np.int64),
        )

    def select(self, episodes: Sequence[int] | np.ndarray) -> DatasetArrays:
        """A new dataset made of the given episodes (in the given order)."""
        episodes = np.asarray(episodes, dtype=np.int64)
        starts, lengths = self.starts, self.lengths
        rows = np.concatenate([np.arange(starts[e], starts[e] + lengths[e]) for e in episodes]) \
            if len(episodes) else np.zeros(0, np.int64)
        return DatasetArrays(
            obs=self.obs[rows], actions=self.actions[rows], rewards=self.rewards[rows],
            terminated=self.terminated[rows], truncated=self.truncated[rows],
            lengths=lengths[episodes],
            final_obs=None if self.final_obs is None else self.final_obs[episodes],
            seeds=self.seeds[episodes], attempts=self.attempts[episodes],
        )

    def equals(self, other: DatasetArrays) -> bool:
        """Whether every array is equal (and the same dtype)."""
        for name in ("obs", "actions", "rewards", "terminated", "truncated", "lengths", "seeds",
                     "attempts"):
            a, b = getattr(self, name), getattr(other, name)
            if a.dtype != b.dtype or not np.array_equal(a, b):
                return False
        if (self.final_obs is None) != (other.final_obs is None):
            return False
        return self.final_obs is None or np.array_equal(self.final_obs, other.final_obs)


def _last_flag(length: int, value: bool) -> np.ndarray:
    flags = np.zeros(length, dtype=bool)
    flags[-1] = value
    return flags
