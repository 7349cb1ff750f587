"""PyTorch datasets: torch views over a dataset loaded by a storage backend.

``BaselineDataset`` (``(s_t, a_t, s_{t+1})``, the paper's API), ``IRLDataset`` (adds done and
reward, 1.0.0's order) and ``SequenceDataset`` (fixed-length windows inside episodes with a
padding mask).

Nothing here reads files or checks data: loading and validation are
:func:`~imitation_datasets.data.sources.load_source`, episode splits
:mod:`~imitation_datasets.data.splits`, spaces :func:`~imitation_datasets.data.schema.
dataset_spaces`. Items are tensor views of the loaded arrays (zero-copy); transitions are index
arithmetic over them (:mod:`imitation_datasets.data.transitions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.utils.data import Dataset

from imitation_datasets.data import huggingface, minari_export
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.batches import (
    GatheredBatch,
    TransitionLoader,
    WindowBatch,
    WindowedBatchSampler,
)
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.loaded import LoadedData, validate_loaded
from imitation_datasets.data.mapped import is_mapped, map_states, release_pages
from imitation_datasets.data.schema import dataset_spaces
from imitation_datasets.data.sources import load_source
from imitation_datasets.data.splits import episode_range, select_episodes, selection_metadata
from imitation_datasets.data.transitions import Transform, Transitions, as_tensor


class BaselineDataset(Dataset):
    """Teacher dataset for imitation learning: items are ``(s_t, a_t, s_{t+1})`` tensors.

    Args:
        path: our dataset directory; a ``teacher.npz`` (original layout or ours); a Parquet or
            JSONL file (or a folder of them, e.g. a hub snapshot) in the original hub layout
            (columns ``obs``, ``actions``, ``rewards``, ``episode_starts``); a
            ``save_to_disk`` folder; a HuggingFace hub repo id (``source="hf"``, read from the
            local cache when offline); a Minari dataset id (``source="minari"``).
        source: ``"local"``, ``"hf"``/``"huggingface"`` or ``"minari"``.
        hf_split: split of a HuggingFace dataset.
        split: ``"train"`` (the training episodes ``[0, n_episodes)``) or ``"eval"`` (every
            other episode, ``[n_episodes, N)``).
        n_episodes: the number of training episodes, whichever split is asked for (see
            :mod:`~imitation_datasets.data.splits`); ``None`` with ``split="train"`` takes all.
        transform: applied to every observation returned (``s_t`` and ``s_{t+1}``), per item.
        revision: hub revision of a repo id.
        cache_dir: hub cache folder.
        allow_nonfinite: load observations, actions or rewards holding NaN or ±infinity. By
            default such data is refused (``DatasetFormatError`` naming the array and row):
            one NaN silently poisons every loss it reaches. Pass ``True`` for data where they
            are meaningful, then handle them yourself.
        frame_stack: ``K``: each ``s_t`` (and ``s_{t+1}``) is the ``K`` observations ending at
            it, ``(K, ...)``, oldest first, inside its episode (its first observation repeated
            before it starts). ``None``: the ``frame_stack`` a pixel dataset was collected with
            (``collect --pixels --frame-stack K``), else 1.

    Every source is checked as it is loaded (:func:`~imitation_datasets.data.loaded.
    validate_loaded`): episode boundaries, 0/1 flags set only on an episode's last step,
    Discrete actions whole and in range, the metadata's spaces, counts and returns against the
    data. Data that does not pass is refused, never loaded as something else.

    Transitions never cross an episode boundary. With our format the last step of each episode
    uses the stored final observation, so every step is a transition. The original layout has no
    final observation: the last step of each episode has no ``s_{t+1}`` and is dropped (an
    episode of ``L`` steps gives ``L - 1`` transitions), as the original ``BaselineDataset`` did.

    Observations keep their stored dtype (float32 for our datasets; float64 from the original's
    JSON files). Discrete actions are int64 scalars, Box actions float vectors. Image
    observations (uint8 ``H x W x C`` arrays, or image paths/bytes in the original layout) are
    read one item at a time and returned as uint8 ``H x W x C`` tensors, through ``transform``.

    The tensors share memory with the loaded data (zero-copy): do not modify items in place.

    A mapped dataset (``collect --mapped`` / ``--pixels``: ``steps/*.npy``, ``steps/obs.arrow``)
    is memory-mapped, not read: loading costs milliseconds whatever its size, NaN/infinity in
    its observations and actions is refused when a batch or item reads them, and
    ``batches(..., window=W)`` keeps an epoch resident at about ``W`` rows
    (:meth:`release_pages`). ``DataLoader(dataset, batch_size=B)`` gathers each batch at once
    (:meth:`__getitems__`), but ``shuffle=True`` is one permutation of the whole dataset, which
    maps every page of it. For the ``DataLoader`` API (workers, ``pin_memory``, your loop)
    within about one window of memory, use the windowed order as its batch sampler::

        sampler = dataset.batch_sampler(1024, window=2**20, seed=0)
        loader = DataLoader(dataset, batch_sampler=sampler, num_workers=0)
        for epoch in range(epochs):  # each pass reads the next epoch (sampler.set_epoch(n))
            for states, actions, next_states in loader:
                ...

    It yields the same batches as ``batches(1024, window=2**20, seed=0)``, item for item, and
    the pages of each finished window are released by the process that read them
    (:meth:`batch_sampler`).

    Raises:
        ValueError: a bad split (see :func:`episode_range`) or source.
        FileNotFoundError: ``path`` does not exist (and is not a repo id with ``source="hf"``).
        DatasetFormatError: the data is corrupt, pickled, ragged, has missing columns, is not
            what its metadata says, or holds NaN/infinity (without ``allow_nonfinite``).
    """

    def __init__(self, path: str | Path | LoadedData, source: str = "local",
                 hf_split: str = "train", split: str = "train", n_episodes: int | None = None,
                 transform: Transform | None = None, *, revision: str | None = None,
                 cache_dir: str | Path | None = None, allow_nonfinite: bool = False,
                 frame_stack: int | None = None) -> None:
        if isinstance(path, LoadedData):
            loaded = validate_loaded(path, allow_nonfinite=allow_nonfinite)
        else:
            loaded = load_source(path, source, hf_split, revision=revision, cache_dir=cache_dir,
                                 allow_nonfinite=allow_nonfinite)
        self.origin = loaded.origin
        whole = loaded.arrays
        self.total_episodes = whole.n_episodes
        self.split = split
        self.episodes = episode_range(split, n_episodes, whole.n_episodes, loaded.origin)
        self.arrays = select_episodes(whole, self.episodes)
        self.metadata = selection_metadata(loaded.metadata, self.arrays, split, self.episodes,
                                           whole.n_episodes)
        self.source_metadata = loaded.metadata
        self.transform = transform
        self.observation_space, self.action_space = dataset_spaces(loaded.metadata, whole.obs,
                                                                   whole.actions)
        arrays = self.arrays
        self.observation_shape = tuple(arrays.obs.shape[1:])
        self.action_shape = tuple(arrays.actions.shape[1:])
        self.discrete_actions = isinstance(self.action_space, gym.spaces.Discrete)
        # Tensor views of the loaded arrays (no copy); gathers index the arrays directly.
        self.states: torch.Tensor | ImageColumn = (
            arrays.obs if isinstance(arrays.obs, ImageColumn) else as_tensor(arrays.obs))
        self.actions = as_tensor(arrays.actions)
        self.final_states = None if arrays.final_obs is None else as_tensor(arrays.final_obs)
        if frame_stack is None:
            pixels = ((loaded.metadata or {}).get("collection") or {}).get("pixels") or {}
            frame_stack = int(pixels.get("frame_stack", 1))
        self.frame_stack = frame_stack
        self.transitions = Transitions(arrays.obs, arrays.final_obs, arrays.lengths, transform,
                                       check_origin=None if allow_nonfinite else loaded.origin,
                                       frame_stack=frame_stack)
        if len(self.transitions) == 0:
            raise ValueError(
                f"{loaded.origin}: the selected episodes hold no transitions (every episode has "
                "one step and the layout has no final observation)"
            )
        kept = kept_states(path, source, loaded.metadata, whole.lengths)
        first_row = int(whole.lengths[:self.episodes.start].sum())
        self.env_states = None if kept is None else \
            kept[0][first_row:first_row + arrays.n_steps]
        """A pixel dataset's state observations (``collect --pixels --keep-states``), one row per
        step of :attr:`arrays` (memory-mapped), else ``None``."""
        self.final_env_states = None if kept is None else \
            kept[1][self.episodes.start:self.episodes.stop]
        """The state after each episode's last step, with :attr:`env_states`."""
        self._window: object = None  # the window of the last WindowBatch read (this process)
        self.release_pages()  # what the load's checks read of a memory-mapped dataset

    @classmethod
    def from_arrays(cls, arrays: DatasetArrays, metadata: dict[str, Any] | None = None, *,
                    split: str = "train", n_episodes: int | None = None,
                    transform: Transform | None = None, origin: str = "arrays",
                    **kwargs: Any) -> BaselineDataset:
        """Build the dataset from arrays already in memory."""
        return cls(LoadedData(arrays, metadata, origin), split=split, n_episodes=n_episodes,
                   transform=transform, **kwargs)

    # ------------------------------------------------------------------ episode statistics
    @property
    def num_episodes(self) -> int:
        """Episodes in this split."""
        return self.arrays.n_episodes

    @property
    def episode_lengths(self) -> np.ndarray:
        """Steps of each episode of this split."""
        return self.arrays.lengths

    @property
    def episode_returns(self) -> np.ndarray:
        """Expert return (sum of rewards) of each episode of this split."""
        return self.arrays.returns

    @property
    def episode_seeds(self) -> np.ndarray:
        """Reset seed of each episode of this split (``-1`` when unknown)."""
        return self.arrays.seeds

    @property
    def average_reward(self) -> float:
        """Mean expert return of the episodes of this split."""
        return float(self.episode_returns.mean())

    @property
    def has_final_obs(self) -> bool:
        """Whether the last step of each episode is a transition (final observation known)."""
        return self.final_states is not None

    # ------------------------------------------------------------------ items
    def __len__(self) -> int:
        return len(self.transitions)

    def __getitem__(self, index: Any) -> tuple[torch.Tensor, ...]:
        """One transition for an int; a batch for a slice, a list or an index tensor/array."""
        if isinstance(index, torch.Tensor) and index.dim() == 0:
            index = int(index)
        if isinstance(index, int | np.integer):
            return self.item(int(index))
        if isinstance(index, slice):
            index = np.arange(*index.indices(len(self)))
        return self.gather(index)

    def __getitems__(self, indices: Any) -> GatheredBatch:
        """The items at ``indices`` gathered at once (``DataLoader``'s batched fetch).

        ``DataLoader(dataset, batch_size=B)`` calls this with the ``B`` indices of a batch; the
        default collate returns the gathered tensors (see :mod:`~imitation_datasets.data.
        batches`): the same values as stacking ``dataset[i]`` for each index, without ``B``
        per-item calls.

        The batches of :meth:`batch_sampler` carry their window: the first batch of a new window
        releases the pages this process mapped before (:meth:`release_pages`).
        """
        if isinstance(indices, WindowBatch):
            if indices.window != self._window:
                self._window = indices.window
                self.release_pages()
            indices = indices.indices
        return GatheredBatch(self.gather(indices))

    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """``(s_t, a_t, s_{t+1})`` of transition ``index``."""
        episode, row = self.transitions.locate(index)
        if self.transitions.check_origin is not None:
            self.transitions.checked(self.arrays.actions[row:row + 1], "actions",
                                     np.array([row]))
        return (self.transitions.stacked_observation(episode, row), self.actions[row],
                self.transitions.stacked_next_observation(episode, row))

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> tuple[torch.Tensor, ...]:
        """A batch ``(states, actions, next_states)`` for a 1-D sequence of indices."""
        episode, rows = self.transitions.locate_batch(_indices(index))
        return self.gather_rows(episode, rows)

    def gather_rows(self, episode: np.ndarray, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        """The batch at ``rows`` of ``episode`` (from ``Transitions.locate_batch``)."""
        steps = self.transitions
        actions = self.arrays.actions.take(rows, axis=0)
        if steps.check_origin is not None:
            steps.checked(actions, "actions", rows)
        return (steps.observations(rows, episode), torch.from_numpy(actions),
                steps.next_observations(episode, rows))

    def batches(self, batch_size: int = 1024, *, shuffle: bool = True, seed: int = 0,
                generator: torch.Generator | None = None, drop_last: bool = False,
                window: int | None = None) -> Any:
        """Shuffled, seeded batches without per-item calls (a ``TransitionLoader``).

        ``window`` (rows) shuffles by windows of blocks for datasets larger than memory (see
        :class:`~imitation_datasets.data.batches.TransitionBatchSampler`): a memory-mapped
        dataset then stays resident at about one window.
        """
        return TransitionLoader(self, batch_size, shuffle=shuffle, seed=seed,
                                generator=generator, drop_last=drop_last, window=window)

    def batch_sampler(self, batch_size: int = 1024, *, shuffle: bool = True, seed: int = 0,
                      drop_last: bool = False, window: int | None = None
                      ) -> WindowedBatchSampler:
        """The ``batch_sampler`` of a ``DataLoader`` that reads :meth:`batches`'s order.

        ``DataLoader(dataset, batch_sampler=dataset.batch_sampler(B, window=W, seed=s))`` yields,
        in its first epoch, the batches of ``dataset.batches(B, window=W, seed=s)`` item for
        item; each later ``for`` over the loader reads the next epoch, shuffled from ``(seed,
        epoch)`` (``set_epoch(n)`` to choose it). With ``window`` (rows), a memory-mapped
        dataset stays resident at about one window per reading process: ``num_workers=0`` keeps
        it in the main process (every finished window released there); with ``num_workers=N``
        each worker releases the pages of its windows as it moves on (about one window each;
        see :class:`~imitation_datasets.data.batches.WindowedBatchSampler`).

        Raises:
            ConfigError: a bad ``batch_size``, ``seed``, ``window``, ``shuffle`` or ``drop_last``.
        """
        return WindowedBatchSampler(len(self), batch_size, shuffle=shuffle, seed=seed,
                                    drop_last=drop_last, window=window,
                                    release=self.release_pages)

    def release_pages(self) -> None:
        """Unmap the pages of a memory-mapped dataset read so far (a no-op in memory).

        The kernel keeps them cached; this process's resident size drops by what it had
        mapped. Items already returned stay valid (they are copies).
        """
        release_pages(self.arrays.obs, self.arrays.actions, self.arrays.rewards,
                      self.env_states)

    # ------------------------------------------------------------------ export
    def loaded(self) -> LoadedData:
        """The selected episodes with their metadata."""
        return LoadedData(self.arrays, self.metadata, self.origin)

    def to_hf_dataset(self) -> Any:
        """The selected episodes as a ``datasets.Dataset`` (hub layout, metadata attached)."""
        return huggingface.to_hf_dataset(self.loaded())

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Upload the selected episodes to the HuggingFace hub (``huggingface.push_to_hub``)."""
        return huggingface.push_to_hub(self.loaded(), repo_id, **kwargs)

    def to_minari(self, dataset_id: str, **kwargs: Any) -> Any:
        """Export the selected episodes as a Minari dataset (``minari_export.to_minari``)."""
        return minari_export.to_minari(self.loaded(), dataset_id, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.origin!r}, split={self.split!r}, episodes="
                f"[{self.episodes.start}, {self.episodes.stop}) of {self.total_episodes}, "
                f"transitions={len(self)}, average_reward={self.average_reward:.3f})")


class IRLDataset(BaselineDataset):
    """``BaselineDataset`` whose items add the done flag and the reward.

    Items are ``(s_t, a_t, s_{t+1}, done_t, r_t)``, the original IL-Datasets 1.0.0 order (done
    bool, reward float32).

    ``done`` is true on the last transition of every episode, whether it ended by termination
    or by a time limit (as in 1.0.0; in the original layout, whose last steps are dropped, that
    is the last transition kept). :attr:`terminated` tells the two apart: it is true only on
    the last step of an episode that reached a terminal state.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rewards = self.arrays.rewards.astype(np.float32)
        self.terminated = self.arrays.terminated
        steps = self.transitions
        ends = np.zeros(steps.n_rows, dtype=bool)
        last = steps.last_row - (1 if steps.drop_last else 0)
        ends[last[steps.counts > 0]] = True
        self.dones = ends
        """Per step: the episode ends after this transition."""

    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """``(s_t, a_t, s_{t+1}, done_t, r_t)`` of transition ``index``."""
        _, row = self.transitions.locate(index)
        return (*super().item(index), torch.tensor(self.dones[row]),
                torch.tensor(self.rewards[row]))

    def gather_rows(self, episode: np.ndarray, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        """A batch ``(states, actions, next_states, dones, rewards)``."""
        return (*super().gather_rows(episode, rows), torch.from_numpy(self.dones.take(rows)),
                torch.from_numpy(self.rewards.take(rows)))


class SequenceDataset(BaselineDataset):
    """Fixed-length windows of consecutive transitions inside one episode, for sequential models.

    Items are ``(states, actions, next_states, mask)`` with a leading ``sequence_length`` axis;
    ``mask`` is true on real steps. A window starts every ``stride`` transitions of an episode
    and never crosses its end: the tail of the last windows is zero-padded (``mask`` false).

    Takes ``BaselineDataset``'s arguments plus ``sequence_length`` and ``stride`` (keywords).
    """

    def __init__(self, *args: Any, sequence_length: int, stride: int = 1,
                 **kwargs: Any) -> None:
        if int(sequence_length) < 1 or int(stride) < 1:
            raise ValueError(f"sequence_length and stride must be >= 1, got "
                             f"{sequence_length} and {stride}")
        super().__init__(*args, **kwargs)
        self.sequence_length = int(sequence_length)
        self.stride = int(stride)
        counts = self.transitions.counts
        windows = -(-counts // self.stride)  # ceil
        self.window_first = np.cumsum(windows) - windows
        self.n_windows = int(windows.sum())

    def __len__(self) -> int:
        return self.n_windows

    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """``(states, actions, next_states, mask)`` of window ``index``."""
        if index < 0:
            index += self.n_windows
        if not 0 <= index < self.n_windows:
            raise IndexError(f"window {index} out of range for {self.n_windows} windows")
        return tuple(x[0] for x in self.gather([index]))

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> tuple[torch.Tensor, ...]:
        """A batch of windows: ``(B, L, ...)`` tensors and a ``(B, L)`` mask."""
        index = _indices(index)
        if index.size and index.min() < 0:
            index = np.where(index < 0, index + self.n_windows, index)
        if index.size and (index.min() < 0 or index.max() >= self.n_windows):
            raise IndexError(f"window indices out of range for {self.n_windows} windows")
        length = self.sequence_length
        episode = np.searchsorted(self.window_first, index, side="right") - 1
        offset = (index - self.window_first[episode]) * self.stride
        start = self.transitions.first[episode] + offset
        valid = np.minimum(self.transitions.counts[episode] - offset, length)
        steps = np.arange(length)
        mask = steps[None, :] < valid[:, None]
        positions = np.where(mask, start[:, None] + steps[None, :], start[:, None])
        parts = super().gather(positions.reshape(-1))
        padding = torch.from_numpy(~mask)
        out = []
        for part in parts:
            part = part.reshape((len(index), length, *part.shape[1:]))
            part[padding] = 0
            out.append(part)
        return (*out, torch.from_numpy(mask))


def kept_states(path: Any, source: str, metadata: dict[str, Any] | None, lengths: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The states a local pixel dataset folder kept beside its frames (mapped), else ``None``."""
    if source != "local" or not isinstance(path, str | Path) or not is_mapped(path):
        return None
    space = ((metadata or {}).get("env") or {}).get("state_space")
    shape = space.get("shape") if isinstance(space, dict) else None
    if not (isinstance(shape, list) and all(isinstance(n, int) for n in shape)):
        shape = None
    return map_states(path, lengths, None if shape is None else tuple(shape))


def _indices(index: Any) -> np.ndarray:
    """Indices (tensor, array, list or slice-expanded) as a 1-D int64 NumPy array."""
    if isinstance(index, torch.Tensor):
        index = index.detach().cpu().numpy()
    out = np.asarray(index, dtype=np.int64)
    return out if out.ndim == 1 else out.reshape(-1)
