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
from imitation_datasets.data.original import REQUIRED, arrays_from_columns
from imitation_datasets.data.schema import DatasetFormatError


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

    return arrays_from_columns(arrays, str(path))
