"""The original IL-Datasets layout: one row per step (obs, actions, rewards, episode_starts).

These are the stable-baselines ``teacher.npz`` keys, and the columns of the hub's JSONL files.

Every reader of that layout (``teacher.npz``, the hub's JSONL/Parquet files, a
``datasets.Dataset``) ends in :func:`arrays_from_columns`, so they validate the same way and
refuse bad input with the same messages, each naming the file.

The layout has no final observation: the last step of every episode has no ``s_{t+1}``, so
:class:`~imitation_datasets.data.torch_dataset.BaselineDataset` drops it (as the original did).
It cannot tell ``terminated`` from ``truncated`` either: the last step of every episode is marked
``truncated``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays, as_flags
from imitation_datasets.data.schema import OPTIONAL_COLUMNS, ORIGINAL_COLUMNS, STEPS_FILE_NAMES


def canonical_columns(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Map each original-layout key to the column that holds it (``actions`` or ``action``)."""
    found = {}
    for key in (*ORIGINAL_COLUMNS, *OPTIONAL_COLUMNS):
        if key in names:
            found[key] = key
        elif STEPS_FILE_NAMES.get(key) in names:
            found[key] = STEPS_FILE_NAMES[key]
    return found


def arrays_from_columns(columns: Mapping[str, Any], origin: str) -> DatasetArrays:
    """Build :class:`DatasetArrays` from original-layout columns (plus our optional extras).

    Args:
        columns: ``obs`` (T, ...), ``actions`` (T, ...), ``rewards`` (T,), ``episode_starts``
            (T,), and optionally ``terminated``/``truncated`` (T,), ``final_obs`` (E, ...),
            ``seeds`` (E,), ``attempts`` (E,).
        origin: the file (or dataset) the columns came from, for error messages.

    Raises:
        DatasetFormatError: a key is missing, lengths disagree, the dataset is empty, the first
            step does not start an episode, a flag column holds values other than 0/1, or an
            array holds Python objects.
    """
    missing = [key for key in ORIGINAL_COLUMNS if key not in columns]
    if missing:
        raise DatasetFormatError(f"{origin}: missing key(s) {missing}")
    for key, value in columns.items():
        if isinstance(value, np.ndarray) and value.dtype == object:
            raise DatasetFormatError(f"{origin}: {key} holds Python objects; refused")
    starts_flags = as_flags(columns["episode_starts"], "episode_starts", origin).reshape(-1)
    total = len(starts_flags)
    for key in ("obs", "actions", "rewards"):
        if len(columns[key]) != total:
            raise DatasetFormatError(
                f"{origin}: {key} has {len(columns[key])} rows, episode_starts has {total}"
            )
    if total == 0:
        raise DatasetFormatError(f"{origin}: empty dataset")
    if not starts_flags[0]:
        raise DatasetFormatError(f"{origin}: episode_starts[0] must be true")
    starts = np.flatnonzero(starts_flags)
    lengths = np.diff(np.append(starts, total)).astype(np.int64)
    n = len(lengths)
    if columns.get("terminated") is not None and columns.get("truncated") is not None:
        terminated = as_flags(columns["terminated"], "terminated", origin).reshape(-1)
        truncated = as_flags(columns["truncated"], "truncated", origin).reshape(-1)
    else:
        last = starts + lengths - 1
        terminated = np.zeros(total, dtype=bool)
        truncated = np.zeros(total, dtype=bool)
        truncated[last] = True
    obs = columns["obs"]
    obs = np.asarray(obs) if isinstance(obs, list) else obs
    actions = np.asarray(columns["actions"])
    if actions.ndim == 2 and actions.shape[1] == 1 and np.issubdtype(actions.dtype, np.integer):
        actions = actions.reshape(-1)
    final_obs = columns.get("final_obs")
    if final_obs is not None:
        final_obs = np.asarray(final_obs)
        if isinstance(obs, np.ndarray) and final_obs.shape[1:] != obs.shape[1:]:
            raise DatasetFormatError(
                f"{origin}: final_obs rows are shaped {final_obs.shape[1:]}, obs rows "
                f"{obs.shape[1:]}"
            )
    seeds = columns.get("seeds")
    attempts = columns.get("attempts")
    try:
        return DatasetArrays(
            obs=obs,
            actions=actions,
            rewards=np.asarray(columns["rewards"], dtype=np.float64).reshape(-1),
            terminated=terminated,
            truncated=truncated,
            lengths=lengths,
            final_obs=final_obs,
            seeds=np.asarray(np.full(n, -1) if seeds is None else seeds, dtype=np.int64),
            attempts=np.asarray(np.ones(n) if attempts is None else attempts, dtype=np.int64),
        )
    except ValueError as exc:
        raise DatasetFormatError(f"{origin}: {exc}") from None


def columns_from_arrays(arrays: DatasetArrays) -> dict[str, np.ndarray]:
    """The original layout's keys (plus ours) for ``arrays``.

    This is what ``np.load`` of a ``teacher.npz`` gives and what the original
    ``huggingface_to_baseline`` returned.
    """
    columns = {
        "obs": arrays.obs,
        "actions": arrays.actions,
        "rewards": arrays.rewards,
        "episode_returns": arrays.returns,
        "episode_starts": arrays.episode_starts,
        "terminated": arrays.terminated,
        "truncated": arrays.truncated,
        "seeds": arrays.seeds,
        "attempts": arrays.attempts,
    }
    if arrays.final_obs is not None:
        columns["final_obs"] = arrays.final_obs
    return columns
