"""A seeded subsample of a dataset's steps, and the normalisation every state metric uses.

Quality metrics look at ``(s, a, s')`` of at most ``size`` steps drawn uniformly without
replacement with ``numpy.random.default_rng(seed)``, so memory and time are bounded on any
dataset and the same ``(dataset, size, seed)`` gives the same numbers. The sample size and seed
are recorded with the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays

MAX_STATE_DIMS = 4096
"""Observations with more numbers than this (images) get no state metrics."""


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension standardisation ``(x - mean) / std``; constant dimensions are dropped."""

    mean: np.ndarray
    std: np.ndarray
    keep: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Normaliser:
        """Mean and standard deviation of each column of ``x``."""
        mean, std = x.mean(axis=0), x.std(axis=0)
        keep = std > 1e-9 * np.maximum(1.0, np.abs(mean))
        return cls(mean, np.where(keep, std, 1.0), keep)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``x`` standardised, constant columns removed."""
        return ((x - self.mean) / self.std)[:, self.keep]


@dataclass(frozen=True)
class StepSample:
    """Steps drawn from a dataset.

    Attributes:
        rows: sorted step rows of the sample.
        episodes: episode of each sampled row.
        states: ``(n, D)`` float64 flattened observations.
        actions: ``(n,)`` int64 (discrete) or ``(n, A)`` float64.
        next_states: ``(n, D)`` next observations (the episode's final observation after its
            last step); rows without one (original layout) are NaN.
        population: steps the sample was drawn from.
        seed: the seed of the draw.
    """

    rows: np.ndarray
    episodes: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    next_states: np.ndarray
    population: int
    seed: int

    @property
    def size(self) -> int:
        """Steps in the sample."""
        return len(self.rows)

    @property
    def has_next(self) -> np.ndarray:
        """Rows whose next observation is known."""
        return ~np.isnan(self.next_states).any(axis=1)

    def record(self) -> dict[str, int]:
        """What the results say about the sample."""
        return {"size": self.size, "population": self.population, "seed": self.seed}


def state_dims(arrays: DatasetArrays) -> int:
    """Numbers per observation."""
    return int(np.prod(arrays.obs.shape[1:], dtype=np.int64))


def has_state_vectors(arrays: DatasetArrays) -> bool:
    """Whether observations are numeric arrays small enough for state metrics (not images)."""
    return isinstance(arrays.obs, np.ndarray) and state_dims(arrays) <= MAX_STATE_DIMS


def draw_steps(arrays: DatasetArrays, size: int, seed: int) -> StepSample:
    """At most ``size`` steps of ``arrays``, uniformly without replacement (seeded).

    Image observations are not read: ``states`` and ``next_states`` then have no columns.
    """
    total = arrays.n_steps
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(total, size=size, replace=False)) if total > size \
        else np.arange(total)
    episode_of = np.searchsorted(arrays.starts, rows, side="right") - 1
    ends = arrays.starts + arrays.lengths - 1
    last = rows == ends[episode_of]
    obs = arrays.obs
    if not has_state_vectors(arrays):
        empty = np.zeros((len(rows), 0))
        return StepSample(rows, episode_of, empty, _actions(arrays, rows), empty.copy(), total,
                          seed)
    dims = state_dims(arrays)
    states = np.asarray(obs[rows], dtype=np.float64).reshape(len(rows), dims)
    following = np.minimum(rows + 1, total - 1)
    next_states = np.asarray(obs[following], dtype=np.float64).reshape(len(rows), dims)
    if arrays.final_obs is not None:
        finals = np.asarray(arrays.final_obs[episode_of[last]], dtype=np.float64)
        next_states[last] = finals.reshape(int(last.sum()), dims)
    else:
        next_states[last] = np.nan
    return StepSample(rows, episode_of, states, _actions(arrays, rows), next_states, total, seed)


def _actions(arrays: DatasetArrays, rows: np.ndarray) -> np.ndarray:
    """int64 ``(n,)`` for Discrete actions, else float64 ``(n, A)``."""
    actions = np.asarray(arrays.actions[rows])
    if actions.ndim == 1 and actions.dtype.kind in "iub":
        return actions.astype(np.int64)
    return actions.astype(np.float64).reshape(len(rows), -1)
