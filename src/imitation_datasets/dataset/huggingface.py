"""IL-Datasets 1.0.0's ``imitation_datasets.dataset.huggingface``: its upload helpers.

``convert_baseline_dataset_to_dict`` and ``save_dataset_into_huggingface_format`` write the
original's upload layout (JSON lines, one step per row, the keys asked for);
``baseline_to_huggingface(dataset_path, new_path, keys=None)`` does both for a ``teacher.npz``,
and converts anything else ``BaselineDataset`` reads through
:func:`imitation_datasets.data.huggingface.baseline_to_huggingface` (JSON lines, Parquet or a
hub folder). ``huggingface_to_baseline`` returns the original's keys (``obs``, ``actions``,
``rewards``, ``episode_starts``) and ``episode_returns`` (plus ours, see
:func:`imitation_datasets.data.hf_datasets.huggingface_to_baseline`). npz files are read
without pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.collect.functions import read_episode_file
from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.data import huggingface as engine
from imitation_datasets.data.huggingface import huggingface_to_baseline

ORIGINAL_KEYS = ("obs", "actions", "rewards", "episode_starts")
"""The keys 1.0.0 uploads by default."""


def convert_baseline_dataset_to_dict(dataset: Mapping[str, Any],
                                     keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """One dict per step with the ``keys`` columns of ``dataset`` (an npz or a mapping).

    Columns shorter than the longest (e.g. ``episode_returns``) are padded with ``None``, as
    1.0.0's DataFrame did.

    Raises:
        KeyError: a key is not in ``dataset``.
    """
    keys = list(ORIGINAL_KEYS if keys is None else keys)
    columns = [np.asarray(dataset[key]).tolist() for key in keys]
    return [dict(zip(keys, row, strict=True)) for row in zip_longest(*columns)]


def save_dataset_into_huggingface_format(dataset: Sequence[Mapping[str, Any]],
                                         path: str | Path) -> None:
    """Write ``dataset`` (one dict per row) as JSON lines to ``path`` (atomically)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for row in dataset:
            handle.write(json.dumps(row) + "\n")


def baseline_to_huggingface(dataset_path: str | Path, new_path: str | Path,
                            keys: Sequence[str] | None = None) -> Path:
    """Convert a dataset for upload (1.0.0's function, with our formats as well).

    A ``teacher.npz`` written to ``.jsonl``/``.json`` (or any call with ``keys``) gives 1.0.0's
    JSON lines of exactly ``keys`` (default :data:`ORIGINAL_KEYS`); anything else goes through
    :func:`imitation_datasets.data.huggingface.baseline_to_huggingface`.

    Raises:
        ValueError: ``dataset_path`` or the folder of ``new_path`` does not exist.
        DatasetFormatError: the npz is unreadable or pickled.
        KeyError: a key is not in the npz.
    """
    source, target = Path(dataset_path), Path(new_path)
    original = source.suffix == ".npz" and target.suffix.lower() in (".jsonl", ".json")
    if keys is None and not original:
        return engine.baseline_to_huggingface(source, target)
    if not source.exists():
        raise ValueError(f"'{source}' does not exist.")
    if not target.parent.exists():
        raise ValueError(f"'{target.parent}' does not exist.")
    rows = convert_baseline_dataset_to_dict(read_episode_file(source), keys)
    save_dataset_into_huggingface_format(rows, target)
    return target


__all__ = ["baseline_to_huggingface", "convert_baseline_dataset_to_dict",
           "huggingface_to_baseline", "save_dataset_into_huggingface_format"]
