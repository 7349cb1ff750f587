"""``(s_t, a_t, s_{t+1})`` as index arithmetic over one contiguous observation array.

Steps of consecutive episodes lie in one ``(T, ...)`` array. Transition ``i`` is found from
per-episode offsets only (``O(E)`` memory, nothing per step):

* when the final observation of every episode is known (our format), every step is a transition;
  ``s_{t+1}`` is the next row, or the episode's final observation on its last step;
* when it is not (the original IL-Datasets layout), the last step of each episode has no
  ``s_{t+1}`` and is skipped: transition ``i`` of episode ``e`` is row ``i + e``.

No transition ever crosses an episode boundary, and no observation is copied until a batch is
gathered.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from imitation_datasets.data.arrays import refuse_nonfinite
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.mapped import is_memory_mapped

Transform = Callable[[torch.Tensor], torch.Tensor]


def as_tensor(array: np.ndarray) -> torch.Tensor:
    """``torch.from_numpy`` without copying, also over read-only (Arrow) buffers.

    The tensor shares the dataset's memory: do not modify it in place.
    """
    if not isinstance(array, np.ndarray) or array.flags.writeable:
        return torch.from_numpy(np.asarray(array))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


class Transitions:
    """Transitions of consecutive episodes.

    Index arithmetic and gathers run in NumPy (single-threaded, no per-call thread-pool cost,
    which dominates small batches in torch on busy CPUs); results become tensors without a copy.

    Args:
        obs: ``(T, ...)`` observations (an array view, or lazily decoded images).
        final_obs: ``(E, ...)`` observation after each episode's last step, or ``None``.
        lengths: ``(E,)`` steps per episode.
        transform: applied to every observation returned (``s_t`` and ``s_{t+1}``).
        check_origin: when given and ``obs`` is memory-mapped (its values were not scanned at
            load), every observation read is checked for NaN/infinity, refused naming this
            origin (:func:`~imitation_datasets.data.arrays.refuse_nonfinite`).
        frame_stack: ``K > 1`` makes every observation the ``K`` observations ending at it,
            oldest first (``(K, ...)``), never reaching into another episode: before an
            episode's first step its first observation is repeated (Gymnasium's
            ``FrameStackObservation(padding_type="reset")``). ``s_{t+1}`` is the stack ending at
            ``t + 1`` (the final observation after the last step).
    """

    def __init__(self, obs: np.ndarray | ImageColumn, final_obs: np.ndarray | None,
                 lengths: np.ndarray, transform: Transform | None = None, *,
                 check_origin: str | None = None, frame_stack: int = 1) -> None:
        if int(frame_stack) < 1:
            raise ValueError(f"frame_stack must be >= 1, got {frame_stack}")
        self.frame_stack = int(frame_stack)
        self._back = np.arange(self.frame_stack - 1, -1, -1)  # offsets of a stack's rows
        self.obs = obs
        self.check_origin = check_origin if is_memory_mapped(obs) else None
        self.final_obs = final_obs
        self.transform = transform
        lengths = np.asarray(lengths, dtype=np.int64)
        self.n_rows = int(lengths.sum())
        self.drop_last = final_obs is None
        counts = lengths - 1 if self.drop_last else lengths
        self.counts = counts
        self.first = np.cumsum(counts) - counts
        self.last_row = np.cumsum(lengths) - 1
        self.start_row = self.last_row + 1 - lengths
        self.length = int(counts.sum())
        self._first_list = self.first.tolist()  # bisect on a list is fastest for single items
        self._last_list = self.last_row.tolist()

    def __len__(self) -> int:
        return self.length

    # -------------------------------------------------------------------- single items
    def locate(self, index: int) -> tuple[int, int]:
        """``(episode, row)`` of transition ``index`` (negative indices count from the end)."""
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(f"transition {index} out of range for {self.length} transitions")
        episode = bisect.bisect_right(self._first_list, index) - 1
        return episode, index + episode if self.drop_last else index

    def checked(self, values: np.ndarray, name: str, rows: np.ndarray) -> np.ndarray:
        """``values`` read at ``rows`` of a memory-mapped column, refused if not finite."""
        if self.check_origin is not None:
            refuse_nonfinite(values, name, self.check_origin, rows)
        return values

    def stacked_observation(self, episode: int, row: int) -> torch.Tensor:
        """``s_t`` at ``row`` of ``episode``: one observation, or its frame stack."""
        if self.frame_stack == 1:
            return self.observation(row)
        return self.observations(np.array([row]), np.array([episode]))[0]

    def stacked_next_observation(self, episode: int, row: int) -> torch.Tensor:
        """``s_{t+1}`` at ``row`` of ``episode``: one observation, or its frame stack."""
        if self.frame_stack == 1:
            return self.next_observation(episode, row)
        return self.next_observations(np.array([episode]), np.array([row]))[0]

    def observation(self, row: int) -> torch.Tensor:
        """Observation ``row`` (decoded and transformed; never stacked)."""
        value = self.obs[row]
        if self.check_origin is not None:
            self.checked(np.asarray(value)[None], "obs", np.array([row]))
        value = as_tensor(value)
        return value if self.transform is None else self.transform(value)

    def next_observation(self, episode: int, row: int) -> torch.Tensor:
        """``s_{t+1}`` of the transition at ``row`` of ``episode``."""
        if self.final_obs is not None and row == self._last_list[episode]:
            value = as_tensor(self.final_obs[episode])
            return value if self.transform is None else self.transform(value)
        return self.observation(row + 1)

    # -------------------------------------------------------------------- batches
    def locate_batch(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(episodes, rows)`` of a 1-D array of transition indices (negative: from the end)."""
        index = np.asarray(index, dtype=np.int64)
        # One pass for the usual case: as unsigned, a negative index is also >= length.
        if index.size and index.view(np.uint64).max() >= self.length:
            if index.min() < 0:
                index = np.where(index < 0, index + self.length, index)
            if index.min() < 0 or index.max() >= self.length:
                raise IndexError(
                    f"transition indices out of range for {self.length} transitions")
        episode = self.first.searchsorted(index, side="right") - 1
        return episode, index + episode if self.drop_last else index

    def observations(self, rows: np.ndarray, episode: np.ndarray | None = None
                     ) -> torch.Tensor:
        """Observations at ``rows`` as one batch (one gather; per item for images/transforms).

        With a frame stack, ``episode`` (of each row) is needed: each row becomes its stack.
        """
        if self.frame_stack > 1 and episode is not None:
            stacks = np.maximum(rows[:, None] - self._back, self.start_row[episode][:, None])
            flat = self.observations(stacks.reshape(-1))
            return flat.reshape((len(rows), self.frame_stack, *flat.shape[1:]))
        if isinstance(self.obs, ImageColumn) or self.transform is not None:
            return _stack([self.observation(int(r)) for r in rows], self.obs)
        values = self.obs.take(rows, axis=0)
        if self.check_origin is not None:
            self.checked(values, "obs", rows)
        return torch.from_numpy(values)

    def next_observations(self, episode: np.ndarray, rows: np.ndarray) -> torch.Tensor:
        """``s_{t+1}`` for each ``(episode, row)`` (stacked with a frame stack)."""
        if self.frame_stack > 1:
            last = self.last_row[episode]
            stacks = self.observations(np.minimum(rows + 1, last), episode)
            if self.final_obs is not None:  # the stack after the last step ends in final_obs
                ends = np.flatnonzero(rows == last)
                if len(ends):
                    stacks[ends, :-1] = stacks[ends, 1:].clone()
                    stacks[ends, -1] = _stack([self.next_observation(int(episode[i]),
                                                                     int(rows[i]))
                                               for i in ends], self.obs)
            return stacks
        if self.final_obs is None:
            return self.observations(rows + 1)
        if isinstance(self.obs, ImageColumn) or self.transform is not None:
            items = [self.next_observation(int(e), int(r)) for e, r in zip(episode, rows)]
            return _stack(items, self.obs)
        following = np.minimum(rows + 1, self.n_rows - 1)
        out = self.obs.take(following, axis=0)
        if self.check_origin is not None:
            self.checked(out, "obs", following)
        last = np.flatnonzero(rows == self.last_row.take(episode))
        if len(last):
            out[last] = self.final_obs[episode[last]]
        return torch.from_numpy(out)


def _stack(items: list[torch.Tensor], obs: Any) -> torch.Tensor:
    if items:
        return torch.stack(items)
    if isinstance(obs, np.ndarray):
        return torch.from_numpy(obs[:0].copy())
    return torch.empty((0,), dtype=torch.uint8)
