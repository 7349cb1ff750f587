"""The in-memory form of a dataset: contiguous arrays plus per-episode tables.

Every reader returns a :class:`DatasetArrays` and every writer takes one, so conversions between
formats (Parquet, npz, HuggingFace, Minari) are compositions of two small functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.mapped import CHUNK_ROWS, chunks, is_memory_mapped, release_pages


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
        """``(E,)`` float64 episode returns (sum of rewards in float64).

        Memory-mapped rewards are summed a chunk of whole episodes at a time (the same sums:
        each episode is one ``reduceat`` segment either way), releasing the pages read.
        """
        if not self.n_steps:
            return np.zeros(0)
        if not is_memory_mapped(self.rewards):
            return np.add.reduceat(self.rewards.astype(np.float64, copy=False), self.starts)
        cached = self.__dict__.get("_mapped_returns")  # read-only data: computed once
        if cached is not None and cached[0] is self.rewards and cached[1] is self.lengths:
            return cached[2].copy()
        starts, out = self.starts, np.empty(self.n_episodes)
        first = 0
        while first < self.n_episodes:  # episodes [first, stop) span at most CHUNK_ROWS rows
            stop = max(first + 1, int(np.searchsorted(starts, starts[first] + CHUNK_ROWS)))
            end = int(starts[stop]) if stop < self.n_episodes else self.n_steps
            chunk = np.asarray(self.rewards[starts[first]:end], dtype=np.float64)
            out[first:stop] = np.add.reduceat(chunk, starts[first:stop] - starts[first])
            release_pages(self.rewards)
            first = stop
        self.__dict__["_mapped_returns"] = (self.rewards, self.lengths, out)
        return out.copy()

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
        if self.final_obs is None or other.final_obs is None:
            return self.final_obs is None and other.final_obs is None
        return np.array_equal(self.final_obs, other.final_obs)


def _last_flag(length: int, value: bool) -> np.ndarray:
    flags = np.zeros(length, dtype=bool)
    flags[-1] = value
    return flags


# ---------------------------------------------------------------------------- validation
CHECK_ROWS = 1 << 12  # rows checked at a time: temporaries stay small whatever the dataset


def as_flags(values: np.ndarray, name: str, origin: str) -> np.ndarray:
    """A 0/1 (or bool) column as bool; any other value (``terminated = 5``, 0.5) is refused.

    Raises:
        DatasetFormatError: naming ``origin``, the column and the first bad value.
    """
    values = np.asarray(values)
    if values.dtype == np.bool_:
        return values
    if values.dtype.kind not in "iuf":
        raise DatasetFormatError(f"{origin}: {name} holds {values.dtype}, not flags")
    bad = np.flatnonzero((values != 0) & (values != 1))
    if len(bad):
        raise DatasetFormatError(
            f"{origin}: {name}[{int(bad[0])}] = {values.reshape(-1)[bad[0]].item()!r}; a flag "
            "must be 0 or 1 (true/false)")
    return values.astype(bool)


def check_episode_flags(arrays: DatasetArrays, origin: str) -> None:
    """``terminated``/``truncated`` may be set only on the last step of an episode.

    Raises:
        DatasetFormatError: naming ``origin`` and the first row set inside an episode.
    """
    last = arrays.starts + arrays.lengths - 1
    for name in ("terminated", "truncated"):
        rows = np.concatenate([start + np.flatnonzero(as_flags(chunk, name, origin))
                               for start, chunk in chunks(getattr(arrays, name))] or
                              [np.zeros(0, dtype=np.int64)])
        inside = rows[~np.isin(rows, last)]
        if len(inside):
            raise DatasetFormatError(
                f"{origin}: {name} is set on row {int(inside[0])}, inside an episode (only an "
                "episode's last step may end it)")


def nonfinite_row(values: np.ndarray) -> int | None:
    """The first row of a float array holding NaN or ±inf (``None``: all finite, or not float).

    One sum decides the common case without temporaries; only when it is not finite (bad
    values, or an overflow) are rows scanned, ``CHECK_ROWS`` at a time.
    """
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "fc" or not values.size:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(values.sum()):  # an overflow only sends us to the exact scan below
            return None
    for start in range(0, len(values), CHECK_ROWS):
        chunk = values[start:start + CHECK_ROWS]
        rows = np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1)
        if not rows.all():
            return start + int(np.flatnonzero(~rows)[0])
    return None


def check_finite(arrays: DatasetArrays, origin: str) -> None:
    """Refuse NaN or ±inf in observations, final observations, actions or rewards.

    Memory-mapped observations and actions (:mod:`~imitation_datasets.data.mapped`) are not
    scanned here (that would read the whole dataset at load): ``BaselineDataset`` checks every
    batch and item it reads from them (:func:`refuse_nonfinite`). Memory-mapped rewards are
    checked through the episode returns (finite rewards give finite returns; an episode whose
    return is not finite is scanned).

    Raises:
        DatasetFormatError: naming ``origin``, the array and the first bad row, and the option
            that accepts such data (``allow_nonfinite=True``).
    """
    for name in ("obs", "final_obs", "actions", "rewards"):
        values = getattr(arrays, name)
        if name in ("obs", "actions") and is_memory_mapped(values):
            continue
        if name == "rewards" and is_memory_mapped(values):
            starts = arrays.starts
            for episode in np.flatnonzero(~np.isfinite(arrays.returns)):
                first = int(starts[episode])
                rows = np.arange(first, first + int(arrays.lengths[episode]))
                refuse_nonfinite(values[rows], name, origin, rows)
            continue
        refuse_nonfinite(values, name, origin)


def refuse_nonfinite(values: np.ndarray, name: str, origin: str,
                     rows: np.ndarray | None = None) -> None:
    """Refuse ``values`` holding NaN or ±inf, naming the first bad row.

    ``rows`` maps ``values``' rows to the dataset's (for a gathered batch).

    Raises:
        DatasetFormatError: naming ``origin``, ``name``, the row and ``allow_nonfinite=True``.
    """
    row = nonfinite_row(values)
    if row is not None:
        where = row if rows is None else int(rows[row])
        raise DatasetFormatError(
            f"{origin}: {name} row {where} holds NaN or infinity; refused (pass "
            "allow_nonfinite=True to load it anyway)")


def conform_to_spaces(arrays: DatasetArrays, observation_space: Any, action_space: Any,
                      origin: str, *, cast: bool = False) -> DatasetArrays:
    """Check the arrays against the spaces a metadata file declares; Discrete actions as int64.

    Observations (and final observations) must have exactly the space's shape (image columns,
    decoded lazily, are not checked here) and dtype. With ``cast`` (formats that store numbers
    without their dtype: JSON lines, hub Parquet written by others) they, and Box actions, are
    converted to the space's dtype instead, but only when no value changes (:func:`cast_exact`:
    float data under a ``uint8`` space is refused, not turned into zeros). Box actions must have
    the space's shape; Discrete actions must be whole numbers in ``[start, start + n)``
    (returned as int64). ``None`` skips a space.

    Raises:
        DatasetFormatError: naming ``origin`` and the array that does not fit.
    """
    import gymnasium as gym

    changes: dict[str, Any] = {}
    if observation_space is not None:
        for name in ("obs", "final_obs"):
            values = getattr(arrays, name)
            if isinstance(values, np.ndarray):
                changes[name] = _fit(values, observation_space, name, origin, cast)
    if isinstance(action_space, gym.spaces.Discrete):
        changes["actions"] = discrete_actions(arrays.actions, action_space, origin)
    elif action_space is not None:
        changes["actions"] = _fit(arrays.actions, action_space, "actions", origin, cast)
    if not changes:
        return arrays
    out = replace(arrays, **changes)
    if "_mapped_returns" in arrays.__dict__:  # still valid: rewards and lengths are the same
        out.__dict__["_mapped_returns"] = arrays.__dict__["_mapped_returns"]
    return out


def _fit(values: np.ndarray, space: Any, name: str, origin: str, cast: bool) -> np.ndarray:
    """``values`` with rows of the Box ``space``'s shape (and dtype, cast exactly if allowed)."""
    shape = tuple(space.shape)
    rows = values.shape[1:]
    if rows != shape and not (shape == () and rows == (1,)):
        raise DatasetFormatError(
            f"{origin}: {name} rows are shaped {rows}, the metadata's space is {shape}")
    values = values.reshape((len(values), *shape))
    if values.dtype == space.dtype:
        return values
    if not cast:
        if name == "actions":  # a policy may act in float64 on a float32 Box: kept as stored
            return values
        raise DatasetFormatError(
            f"{origin}: {name} is {values.dtype}, the metadata's space says {space.dtype}")
    return cast_exact(values, space.dtype, name, origin)


def cast_exact(values: np.ndarray, dtype: Any, name: str, origin: str) -> np.ndarray:
    """``values.astype(dtype)``, refused when a value would not survive the cast.

    Float-to-float casts round (as any float32 store does); casts to an integer or bool dtype
    must be exact: 0.3 under ``uint8`` (it would become 0), 300, -1 or NaN are refused.

    Raises:
        DatasetFormatError: naming ``origin``, ``name`` and the first value that does not fit.
    """
    dtype = np.dtype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        out = values.astype(dtype)
        if dtype.kind == "f" and values.dtype.kind in "biuf":
            return out
        same = out.astype(values.dtype) == values
    if not np.all(same):
        flat = int(np.flatnonzero(~same.reshape(-1))[0])
        raise DatasetFormatError(
            f"{origin}: {name} holds {values.reshape(-1)[flat].item()!r}, which {dtype} (the "
            "metadata's dtype) cannot represent; refused")
    return out


def discrete_actions(actions: np.ndarray, space: Any, origin: str) -> np.ndarray:
    """``actions`` as int64 if they are whole numbers inside the Discrete ``space``.

    Raises:
        DatasetFormatError: a fractional or out-of-range action (the first one is named).
    """
    actions = np.asarray(actions)
    if actions.ndim == 2 and actions.shape[1] == 1:
        actions = actions.reshape(-1)
    if actions.ndim != 1 or actions.dtype.kind not in "iuf":
        raise DatasetFormatError(f"{origin}: actions are {actions.dtype} {actions.shape[1:]}; "
                                 f"a Discrete({space.n}) space needs one integer per step")
    low, high = int(space.start), int(space.start) + int(space.n)
    with np.errstate(invalid="ignore"):
        bad = (actions < low) | (actions >= high)
        if actions.dtype.kind == "f":
            bad |= actions != np.floor(actions)
    rows = np.flatnonzero(bad)
    if len(rows):
        raise DatasetFormatError(
            f"{origin}: action {actions[rows[0]].item()!r} at row {int(rows[0])} is not in "
            f"Discrete({space.n}, start={space.start}) (whole numbers {low}..{high - 1})")
    return actions if actions.dtype == np.int64 else actions.astype(np.int64)
