"""``teacher.npz`` in the original IL-Datasets / stable-baselines layout, never unpickled.

Keys: ``obs`` (T, ...), ``actions`` (T, ...), ``rewards`` (T,), ``episode_returns`` (E,),
``episode_starts`` (T,). Our exports add ``final_obs``, ``terminated``, ``truncated``, ``seeds``
and ``attempts`` (older readers ignore extra keys); imports use them when present.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import DatasetFormatError

REQUIRED = ("obs", "actions", "rewards", "episode_starts")


def export_npz(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as a ``teacher.npz`` (atomically)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    extra = {} if arrays.final_obs is None else {"final_obs": arrays.final_obs}
    with open(tmp, "wb") as handle:
        np.savez(
            handle,
            obs=arrays.obs,
            actions=arrays.actions,
            rewards=arrays.rewards,
            episode_returns=arrays.returns,
            episode_starts=arrays.episode_starts,
            terminated=arrays.terminated,
            truncated=arrays.truncated,
            seeds=arrays.seeds,
            attempts=arrays.attempts,
            **extra,
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def import_npz(path: str | Path) -> DatasetArrays:
    """Read a ``teacher.npz`` (ours or the original's) without ever unpickling.

    Without ``terminated``/``truncated`` keys (the original layout), every episode's last step is
    marked ``truncated`` (the layout cannot tell them apart); without ``final_obs`` the dataset has
    no final observations.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in REQUIRED if key not in data.files]
            if missing:
                raise DatasetFormatError(f"{path}: missing key(s) {missing}")
            arrays = {key: data[key] for key in data.files}
    except DatasetFormatError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetFormatError(
                f"{path}: holds object arrays, which need pickle to load; refused "
                "(re-save it with plain numeric arrays)"
            ) from None
        raise DatasetFormatError(f"{path}: unreadable npz ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or truncated npz ({exc})") from None

    starts_flags = np.asarray(arrays["episode_starts"]).astype(bool).reshape(-1)
    total = len(starts_flags)
    for key in ("obs", "actions", "rewards"):
        if len(arrays[key]) != total:
            raise DatasetFormatError(
                f"{path}: {key} has {len(arrays[key])} rows, episode_starts has {total}"
            )
    if total == 0:
        raise DatasetFormatError(f"{path}: empty dataset")
    if not starts_flags[0]:
        raise DatasetFormatError(f"{path}: episode_starts[0] must be true")
    starts = np.flatnonzero(starts_flags)
    lengths = np.diff(np.append(starts, total)).astype(np.int64)
    last = starts + lengths - 1
    if "terminated" in arrays and "truncated" in arrays:
        terminated = arrays["terminated"].astype(bool).reshape(-1)
        truncated = arrays["truncated"].astype(bool).reshape(-1)
    else:
        terminated = np.zeros(total, dtype=bool)
        truncated = np.zeros(total, dtype=bool)
        truncated[last] = True
    n = len(lengths)
    actions = np.asarray(arrays["actions"])
    if actions.ndim == 2 and actions.shape[1] == 1 and np.issubdtype(actions.dtype, np.integer):
        actions = actions.reshape(-1)
    return DatasetArrays(
        obs=np.asarray(arrays["obs"]),
        actions=actions,
        rewards=np.asarray(arrays["rewards"], dtype=np.float64).reshape(-1),
        terminated=terminated,
        truncated=truncated,
        lengths=lengths,
        final_obs=arrays.get("final_obs"),
        seeds=np.asarray(arrays.get("seeds", np.full(n, -1)), dtype=np.int64),
        attempts=np.asarray(arrays.get("attempts", np.ones(n)), dtype=np.int64),
    )
