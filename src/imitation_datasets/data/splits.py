"""Train/eval splits by whole episodes, and the metadata of a selection.

``n_episodes`` means one thing everywhere: **the number of training episodes**, the first
``n_episodes`` of the dataset in stored order. ``split="train"`` takes them (``[0, n)``; all
``N`` when ``n_episodes`` is ``None``); ``split="eval"`` takes every other episode (``[n, N)``),
so a training and an evaluation split made with the same ``n_episodes`` never share an episode.
This is the IL-Datasets paper's ``BaselineDataset(path, n_episodes=100, split="eval")``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.metadata import ReturnStats

SPLITS = ("train", "eval")


def episode_range(split: str, n_episodes: int | None, total: int, origin: str) -> range:
    """The episodes a split takes: train ``[0, n)``, eval ``[n, N)`` (``n`` training episodes).

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
    meta["returns"] = ReturnStats.of(arrays.returns).to_json()
    meta["total_steps"] = arrays.n_steps
    meta["selection"] = {"split": split, "episodes": [episodes.start, episodes.stop],
                         "of": total}
    return meta
