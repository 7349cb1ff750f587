"""PyTorch datasets over any IL dataset.

``BaselineDataset`` (``(s_t, a_t, s_{t+1})``, the paper's API), ``IRLDataset`` (adds reward and
terminated) and ``SequenceDataset`` (fixed-length windows inside episodes with a padding mask).

Loading is zero-copy where the format allows it: the observation tensor is a view of the Arrow
buffer (our Parquet) or of the loaded array; transitions are index arithmetic over it
(:mod:`imitation_datasets.data.transitions`). Splits are by episodes and can never leak:
``split="train"`` is episodes ``[0, n)``, ``split="eval"`` is ``[n, N)``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch.utils.data import Dataset

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.schema import json_number, space_from_dict
from imitation_datasets.data.sources import LoadedData, load_source, validate_loaded
from imitation_datasets.data.transitions import Transform, Transitions, as_tensor

SPLITS = ("train", "eval")


def episode_range(split: str, n_episodes: int | None, total: int, origin: str) -> range:
    """The episodes a split takes: train ``[0, n)``, eval ``[n, N)``.

    Raises:
        ValueError: an unknown split; ``split="eval"`` without ``n_episodes`` or with
            ``n_episodes`` outside ``1 .. N-1`` (it would be empty or overlap the training
            episodes); ``split="train"`` with ``n_episodes`` outside ``1 .. N``.
        TypeError: ``n_episodes`` is not an integer.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'eval'")
    if n_episodes is not None and (isinstance(n_episodes, bool) or
                                   not isinstance(n_episodes, int | np.integer)):
        raise TypeError(f"n_episodes must be an integer or None, got {n_episodes!r}")
    if split == "train":
        if n_episodes is None:
            return range(total)
        if not 1 <= n_episodes <= total:
            raise ValueError(
                f"split='train' with n_episodes={n_episodes}: {origin} has {total} episodes; "
                f"n_episodes must be between 1 and {total}"
            )
        return range(int(n_episodes))
    if n_episodes is None:
        raise ValueError(
            "split='eval' needs n_episodes, the number of training episodes: eval is episodes "
            f"[n_episodes, {total}) of {origin}. Without it the evaluation split would be the "
            "training data"
        )
    if not 1 <= n_episodes < total:
        raise ValueError(
            f"split='eval' with n_episodes={n_episodes}: {origin} has {total} episodes, so "
            f"eval = [{n_episodes}, {total}) would be "
            + ("empty" if n_episodes >= total else "the whole dataset, training included")
            + f"; n_episodes must be between 1 and {total - 1}"
        )
    return range(int(n_episodes), total)


def select_episodes(arrays: DatasetArrays, episodes: range) -> DatasetArrays:
    """Consecutive episodes of ``arrays`` as views (no copy)."""
    starts = arrays.starts
    first, stop = episodes.start, episodes.stop
    r0 = int(starts[first]) if first < arrays.n_episodes else arrays.n_steps
    r1 = int(starts[stop - 1] + arrays.lengths[stop - 1]) if stop > first else r0
    obs = arrays.obs.slice(r0, r1) if isinstance(arrays.obs, ImageColumn) else arrays.obs[r0:r1]
    return DatasetArrays(
        obs=obs, actions=arrays.actions[r0:r1], rewards=arrays.rewards[r0:r1],
        terminated=arrays.terminated[r0:r1], truncated=arrays.truncated[r0:r1],
        lengths=arrays.lengths[first:stop],
        final_obs=None if arrays.final_obs is None else arrays.final_obs[first:stop],
        seeds=arrays.seeds[first:stop], attempts=arrays.attempts[first:stop],
    )


def selection_metadata(metadata: dict[str, Any] | None, arrays: DatasetArrays, split: str,
                       episodes: range, total: int) -> dict[str, Any] | None:
    """The metadata describing only the selected episodes (plus a ``selection`` record)."""
    if metadata is None or (episodes.start == 0 and episodes.stop == total):
        return metadata
    meta = copy.deepcopy(metadata)
    section = meta.setdefault("episodes", {})
    for key in ("seed", "return", "length", "attempts"):
        if isinstance(section.get(key), list) and len(section[key]) == total:
            section[key] = section[key][episodes.start:episodes.stop]
    section["count"] = arrays.n_episodes
    section["terminated"] = int(arrays.terminated.sum())
    section["truncated"] = int(arrays.truncated.sum())
    returns = arrays.returns
    meta["returns"] = {"mean": json_number(returns.mean()), "std": json_number(returns.std()),
                       "min": json_number(returns.min()), "max": json_number(returns.max())}
    meta["total_steps"] = arrays.n_steps
    meta["selection"] = {"split": split, "episodes": [episodes.start, episodes.stop],
                         "of": total}
    return meta


def _infer_spaces(arrays: DatasetArrays) -> tuple[gym.Space, gym.Space]:
    obs_shape = tuple(arrays.obs.shape[1:])
    if isinstance(arrays.obs, ImageColumn) or arrays.obs.dtype == np.uint8:
        obs_space: gym.Space = gym.spaces.Box(0, 255, obs_shape, np.uint8)
    else:
        obs_space = gym.spaces.Box(-np.inf, np.inf, obs_shape, arrays.obs.dtype)
    actions = arrays.actions
    if actions.ndim == 1 and np.issubdtype(actions.dtype, np.integer):
        # Every action stored must be in the space: negative ones move its start.
        start = min(0, int(actions.min()))
        act_space: gym.Space = gym.spaces.Discrete(int(actions.max()) - start + 1, start=start)
    else:
        act_space = gym.spaces.Box(-np.inf, np.inf, tuple(actions.shape[1:]),
                                   actions.dtype if np.issubdtype(actions.dtype, np.floating)
                                   else np.float32)
    return obs_space, act_space


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
        split: ``"train"`` (episodes ``[0, n_episodes)``) or ``"eval"`` (episodes
            ``[n_episodes, N)``).
        n_episodes: number of training episodes; ``None`` with ``split="train"`` takes all.
        transform: applied to every observation returned (``s_t`` and ``s_{t+1}``), per item.
        revision: hub revision of a repo id.
        cache_dir: hub cache folder.
        allow_nonfinite: load observations, actions or rewards holding NaN or ±infinity. By
            default such data is refused (``DatasetFormatError`` naming the array and row):
            one NaN silently poisons every loss it reaches. Pass ``True`` for data where they
            are meaningful, then handle them yourself.

    Every source is checked as it is loaded (:func:`~imitation_datasets.data.sources.
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

    Raises:
        ValueError: a bad split (see :func:`episode_range`) or source.
        FileNotFoundError: ``path`` does not exist (and is not a repo id with ``source="hf"``).
        DatasetFormatError: the data is corrupt, pickled, ragged, has missing columns, is not
            what its metadata says, or holds NaN/infinity (without ``allow_nonfinite``).
    """

    def __init__(self, path: str | Path | LoadedData, source: str = "local",
                 hf_split: str = "train", split: str = "train", n_episodes: int | None = None,
                 transform: Transform | None = None, *, revision: str | None = None,
                 cache_dir: str | Path | None = None, allow_nonfinite: bool = False) -> None:
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
        self._spaces(loaded.metadata, whole)
        arrays = self.arrays
        # Tensor views of the loaded arrays (no copy); gathers index the arrays directly.
        self.states: torch.Tensor | ImageColumn = (
            arrays.obs if isinstance(arrays.obs, ImageColumn) else as_tensor(arrays.obs))
        self.actions = as_tensor(arrays.actions)
        self.final_states = None if arrays.final_obs is None else as_tensor(arrays.final_obs)
        self.transitions = Transitions(arrays.obs, arrays.final_obs, arrays.lengths, transform)
        if len(self.transitions) == 0:
            raise ValueError(
                f"{loaded.origin}: the selected episodes hold no transitions (every episode has "
                "one step and the layout has no final observation)"
            )

    @classmethod
    def from_arrays(cls, arrays: DatasetArrays, metadata: dict[str, Any] | None = None, *,
                    split: str = "train", n_episodes: int | None = None,
                    transform: Transform | None = None, origin: str = "arrays",
                    **kwargs: Any) -> BaselineDataset:
        """Build the dataset from arrays already in memory."""
        return cls(LoadedData(arrays, metadata, origin), split=split, n_episodes=n_episodes,
                   transform=transform, **kwargs)

    def _spaces(self, metadata: dict[str, Any] | None, whole: DatasetArrays) -> None:
        env = (metadata or {}).get("env", {})
        if env.get("observation_space") and env.get("action_space"):
            self.observation_space = space_from_dict(env["observation_space"])
            self.action_space = space_from_dict(env["action_space"])
        else:
            self.observation_space, self.action_space = _infer_spaces(whole)
        self.observation_shape = tuple(self.arrays.obs.shape[1:])
        self.action_shape = tuple(self.arrays.actions.shape[1:])
        self.discrete_actions = isinstance(self.action_space, gym.spaces.Discrete)

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

    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """``(s_t, a_t, s_{t+1})`` of transition ``index``."""
        episode, row = self.transitions.locate(index)
        return (self.transitions.observation(row), self.actions[row],
                self.transitions.next_observation(episode, row))

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> tuple[torch.Tensor, ...]:
        """A batch ``(states, actions, next_states)`` for a 1-D sequence of indices."""
        episode, rows = self.transitions.locate_batch(_indices(index))
        return (self.transitions.observations(rows),
                torch.from_numpy(np.take(self.arrays.actions, rows, axis=0)),
                self.transitions.next_observations(episode, rows))

    def batches(self, batch_size: int = 1024, *, shuffle: bool = True, seed: int = 0,
                generator: torch.Generator | None = None, drop_last: bool = False) -> Any:
        """Shuffled, seeded batches without per-item calls (a ``TransitionLoader``)."""
        from imitation_datasets.data.batches import TransitionLoader

        return TransitionLoader(self, batch_size, shuffle=shuffle, seed=seed,
                                generator=generator, drop_last=drop_last)

    # ------------------------------------------------------------------ export
    def loaded(self) -> LoadedData:
        """The selected episodes with their metadata."""
        return LoadedData(self.arrays, self.metadata, self.origin)

    def to_hf_dataset(self) -> Any:
        """The selected episodes as a ``datasets.Dataset`` (hub layout, metadata attached)."""
        from imitation_datasets.data.huggingface import to_hf_dataset

        return to_hf_dataset(self.loaded())

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Upload the selected episodes to the HuggingFace hub (``huggingface.push_to_hub``)."""
        from imitation_datasets.data.huggingface import push_to_hub

        return push_to_hub(self.loaded(), repo_id, **kwargs)

    def to_minari(self, dataset_id: str, **kwargs: Any) -> Any:
        """Export the selected episodes as a Minari dataset (``minari_export.to_minari``)."""
        from imitation_datasets.data.minari_export import to_minari

        return to_minari(self.loaded(), dataset_id, **kwargs)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.origin!r}, split={self.split!r}, episodes="
                f"[{self.episodes.start}, {self.episodes.stop}) of {self.total_episodes}, "
                f"transitions={len(self)}, average_reward={self.average_reward:.3f})")


class IRLDataset(BaselineDataset):
    """``BaselineDataset`` whose items add the reward and the terminated flag.

    Items are ``(s_t, a_t, s_{t+1}, r_t, terminated_t)`` (reward float32, terminated bool).

    ``terminated`` is true only on the last step of an episode that reached a terminal state
    (never on a time-limit truncation). In the original layout the last steps are dropped, so it
    is never true there.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rewards = self.arrays.rewards.astype(np.float32)
        self.terminated = self.arrays.terminated

    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """``(s_t, a_t, s_{t+1}, r_t, terminated_t)`` of transition ``index``."""
        _, row = self.transitions.locate(index)
        return (*super().item(index), torch.tensor(self.rewards[row]),
                torch.tensor(self.terminated[row]))

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> tuple[torch.Tensor, ...]:
        """A batch ``(states, actions, next_states, rewards, terminated)``."""
        index = _indices(index)
        _, rows = self.transitions.locate_batch(index)
        return (*super().gather(index), torch.from_numpy(np.take(self.rewards, rows)),
                torch.from_numpy(np.take(self.terminated, rows)))


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


def _indices(index: Any) -> np.ndarray:
    """Indices (tensor, array, list or slice-expanded) as a 1-D int64 NumPy array."""
    if isinstance(index, torch.Tensor):
        index = index.detach().cpu().numpy()
    return np.asarray(index, dtype=np.int64).reshape(-1)
