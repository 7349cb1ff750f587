"""HuggingFace ``datasets`` as a storage backend: ``Dataset`` objects and ``save_to_disk`` folders.

A ``datasets.Dataset`` holds the steps in the hub layout (``hub_layout.py``) and our metadata as
JSON in ``info.description``, so :func:`from_hf_dataset` restores every array of
:func:`to_hf_dataset`'s. ``datasets`` is imported only when a function here runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.core.safe_paths import contained_path
from imitation_datasets.core.safe_read import read_json, require_regular
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.hub_layout import (
    columns_from_table,
    fit_to_metadata,
    write_hub_stream,
)
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.metadata import checked_metadata
from imitation_datasets.data.original import arrays_from_columns, columns_from_arrays

SAVED_INFO, SAVED_STATE, SAVED_DICT = "dataset_info.json", "state.json", "dataset_dict.json"


def _description_metadata(dataset: Any, origin: str) -> dict[str, Any] | None:
    """Our metadata from ``info.description`` (None when it is not ours), checked like a file."""
    text = getattr(getattr(dataset, "info", None), "description", "") or ""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError):
        return None
    return checked_metadata(data, f"{origin} (info.description)")


def from_hf_dataset(dataset: Any, origin: str = "HuggingFace dataset",
                    base_dir: str | Path | None = None
                    ) -> tuple[DatasetArrays, dict[str, Any] | None]:
    """Arrays (and our metadata, when attached) of a ``datasets.Dataset`` in the hub layout.

    Reads the Arrow table directly (no per-row Python loop): linear in the size.

    Args:
        dataset: a ``datasets.Dataset`` (one split).
        origin: what to call it in error messages.
        base_dir: folder that image paths are relative to (image observations only).
    """
    if isinstance(getattr(dataset, "num_rows", None), dict):
        raise TypeError(
            f"got a DatasetDict with splits {sorted(dataset.num_rows)}; pass one split, "
            "e.g. dataset['train']"
        )
    if not hasattr(dataset, "with_format"):
        raise TypeError(f"expected a datasets.Dataset, got {type(dataset).__name__}")
    table = dataset.with_format("arrow")[:]
    metadata = _description_metadata(dataset, origin)
    columns = columns_from_table(table, origin, None if base_dir is None else Path(base_dir))
    return fit_to_metadata(arrays_from_columns(columns, origin), metadata, origin), metadata


def to_hf_dataset(data: LoadedData, cache_dir: str | Path | None = None) -> Any:
    """``data`` as a ``datasets.Dataset`` (one row per step, hub layout, metadata attached).

    Its ``info.description`` is our ``metadata.json`` (as JSON) when the data has metadata.
    The rows are streamed, a bounded batch at a time, into an Arrow file that the ``Dataset``
    memory-maps (as ``datasets`` does with its own cache files), so memory does not grow with
    the dataset: the file goes in ``cache_dir`` when given, else in ``datasets``' temporary
    cache folder, removed when the interpreter exits. Image observations carry the ``Image``
    feature.
    """
    require_extra("hf", "a HuggingFace datasets.Dataset", ("datasets",))
    import datasets
    from datasets.fingerprint import get_temporary_cache_files_directory

    description = "" if data.metadata is None else json.dumps(data.metadata, allow_nan=False)
    info = datasets.DatasetInfo(description=description)
    folder = Path(cache_dir) if cache_dir is not None else \
        Path(get_temporary_cache_files_directory())
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="hub-layout-", suffix=".arrow", dir=folder)
    os.close(handle)
    try:
        write_hub_stream(data.arrays, name)
        return datasets.Dataset.from_file(name, info=info)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def huggingface_to_baseline(dataset: Any) -> dict[str, np.ndarray]:
    """Paper API: a HuggingFace dataset as the ``teacher.npz`` layout (a dict of arrays).

    Keys: ``obs``, ``actions``, ``rewards``, ``episode_starts``, ``episode_returns``, plus ours
    (``terminated``, ``truncated``, ``seeds``, ``attempts``, and ``final_obs`` when known).
    Unlike the original (quadratic ``np.append`` per row), this is one pass over Arrow columns.
    """
    arrays, _ = from_hf_dataset(dataset)
    return columns_from_arrays(arrays)


def load_saved_dataset(directory: Path, hf_split: str = "train") -> LoadedData:
    """A folder written by ``datasets.Dataset(Dict).save_to_disk``.

    Every path the folder's JSON names (a split folder in ``dataset_dict.json``, the Arrow
    files in ``state.json``) is checked to lie inside the folder before ``datasets`` opens it.

    Raises:
        DatasetFormatError: a path leading outside the folder (absolute, ``..``, symlink), a
            missing or irregular file, or data ``datasets`` cannot read.
        ValueError: ``hf_split`` is not one of a ``DatasetDict``'s splits.
    """
    require_extra("hf", f"{directory} (a datasets save_to_disk folder)", ("datasets",))
    import datasets

    folder = _saved_split_folder(directory, hf_split)
    _check_saved_files(folder)
    try:
        loaded = datasets.Dataset.load_from_disk(str(folder))
    except Exception as exc:  # noqa: BLE001 - anything datasets raises, as one line
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise DatasetFormatError(f"{directory}: unreadable saved dataset ({message})") from None
    arrays, metadata = from_hf_dataset(loaded, str(directory), directory)
    return LoadedData(arrays, metadata, str(directory))


def _saved_split_folder(directory: Path, hf_split: str) -> Path:
    """The folder of the saved ``Dataset`` to read (``directory`` or one of its splits)."""
    if all((directory / name).exists() for name in (SAVED_INFO, SAVED_STATE)):
        return directory
    index = directory / SAVED_DICT
    if not index.exists():
        raise DatasetFormatError(f"{directory}: neither a saved Dataset ({SAVED_INFO} + "
                                 f"{SAVED_STATE}) nor a saved DatasetDict ({SAVED_DICT})")
    splits = read_json(index)
    splits = splits.get("splits") if isinstance(splits, dict) else None
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise DatasetFormatError(f"{index}: 'splits' must be a list of split names")
    if hf_split not in splits:
        raise ValueError(f"hf_split={hf_split!r} not in {directory}; it has {splits}")
    return contained_path(directory, hf_split, source=str(index), field="splits entry",
                          error=DatasetFormatError)


def _check_saved_files(folder: Path) -> None:
    """Refuse a saved ``Dataset`` whose JSON names files outside ``folder`` or irregular ones."""
    read_json(folder / SAVED_INFO)  # bounded and regular, before datasets reads it unbounded
    state_file = folder / SAVED_STATE
    state = read_json(state_file)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
        raise DatasetFormatError(f"{state_file}: '_data_files' must be a non-empty list of "
                                 "{'filename': ...} objects")
    for entry in files:
        path = contained_path(folder, entry.get("filename"), source=str(state_file),
                              field="_data_files filename", error=DatasetFormatError)
        require_regular(path)


class HFDatasets:
    """Storage backend ``"hf"``: a ``datasets`` ``save_to_disk`` folder."""

    name = "hf"

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """:func:`load_saved_dataset` (a ``DatasetDict``'s ``split``)."""
        loaded = load_saved_dataset(Path(location), split)
        return loaded if origin is None else LoadedData(loaded.arrays, loaded.metadata, origin)

    def write(self, data: LoadedData, location: str | Path) -> Path:
        """:func:`to_hf_dataset` saved with ``save_to_disk`` (``BaselineDataset`` reads it).

        Streamed: the rows go a batch at a time into a temporary Arrow file beside
        ``location`` (removed afterwards), which ``save_to_disk`` copies a batch at a time.
        """
        location = Path(location)
        location.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{location.name}-", dir=location.parent) as tmp:
            dataset = to_hf_dataset(data, cache_dir=tmp)
            dataset.save_to_disk(str(location))
            del dataset  # unmaps the temporary file before its folder is removed
        return location
