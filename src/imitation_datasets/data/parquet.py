"""Parquet storage: ``steps.parquet`` and ``episodes.parquet`` (see ``schema.py``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import read_metadata, write_metadata
from imitation_datasets.data.schema import (
    EPISODE_COLUMNS,
    EPISODES_FILE,
    STEP_COLUMNS,
    STEPS_FILE,
    DatasetFormatError,
    space_from_dict,
)

ROW_GROUP = 1 << 20
# What read_parquet needs (the other columns are redundant: episode_index, step, ...).
STEP_READ_COLUMNS = ("obs", "action", "reward", "terminated", "truncated")
EPISODE_READ_COLUMNS = ("length", "final_obs", "seed", "attempts")


def _flat(values: np.ndarray) -> pa.Array:
    """A 1-D numeric or bool NumPy array as an Arrow array, built from its buffer directly.

    (``pa.array`` would import pandas, a quarter of a second we do not need.)
    """
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def _column(values: np.ndarray) -> pa.Array:
    """Scalars stay scalars; arrays become fixed-size lists of their flattened values."""
    if values.ndim == 1:
        return _flat(values)
    width = int(np.prod(values.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(_flat(values.reshape(-1)), width)


def _table(columns: dict[str, np.ndarray]) -> pa.Table:
    return pa.Table.from_arrays([_column(v) for v in columns.values()], names=list(columns))


def _write_table(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP,
                   write_statistics=False)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_parquet(directory: str | Path, arrays: DatasetArrays, metadata: dict[str, Any]) -> Path:
    """Write a dataset directory; ``metadata.json`` goes last, so its presence means complete."""
    if arrays.final_obs is None:
        raise DatasetFormatError("this format stores the final observation of every episode")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    last = arrays.starts + arrays.lengths - 1
    steps = _table({
        "episode_index": arrays.episode_index.astype(np.int32),
        "step": _step_numbers(arrays.lengths),
        "obs": arrays.obs,
        "action": arrays.actions,
        "reward": arrays.rewards.astype(np.float64, copy=False),
        "terminated": arrays.terminated,
        "truncated": arrays.truncated,
        "episode_start": arrays.episode_starts,
    })
    episodes = _table({
        "episode_index": np.arange(arrays.n_episodes, dtype=np.int32),
        "seed": arrays.seeds,
        "return": arrays.returns,
        "length": arrays.lengths,
        "terminated": arrays.terminated[last],
        "truncated": arrays.truncated[last],
        "final_obs": arrays.final_obs,
        "attempts": arrays.attempts,
        "first_step": arrays.starts,
    })
    meta_path = directory / "metadata.json"
    if meta_path.exists():
        meta_path.unlink()  # the old dataset is no longer complete
    _write_table(steps, directory / STEPS_FILE)
    _write_table(episodes, directory / EPISODES_FILE)
    write_metadata(directory, metadata)
    return directory


def _step_numbers(lengths: np.ndarray) -> np.ndarray:
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return (np.arange(total, dtype=np.int64) - starts).astype(np.int32)


def _read_table(path: Path, columns: tuple[str, ...]) -> pa.Table:
    """Read ``columns`` of a Parquet file, memory-mapped; refuse a missing, corrupt or
    incomplete file with a message naming it.

    A file with several row groups is returned as it is (one chunk per row group);
    :func:`_numpy` copies such columns into one array, one row group at a time.
    """
    if not path.is_file():
        raise DatasetFormatError(f"{path}: missing")
    try:
        names = pq.read_schema(path, memory_map=True).names
        missing = [c for c in columns if c not in names]
        if missing:
            raise DatasetFormatError(f"{path}: missing column(s) {missing}")
        return pq.read_table(path, columns=list(columns), memory_map=True)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None


def _leaf(array: pa.Array, name: str, path: Path) -> tuple[pa.Array, tuple[int, ...]]:
    """The flat values of a (nested) fixed-size-list array and the shape of one row."""
    shape: list[int] = []
    while pa.types.is_fixed_size_list(array.type):
        if array.null_count:
            raise DatasetFormatError(f"{path}: column {name!r} has missing values")
        shape.append(array.type.list_size)
        array = array.flatten()
    if array.null_count:
        raise DatasetFormatError(f"{path}: column {name!r} has missing values")
    return array, tuple(shape)


def _chunk_numpy(chunk: pa.Array, name: str, path: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    values, row_shape = _leaf(chunk, name, path)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
            or pa.types.is_boolean(values.type)):
        raise DatasetFormatError(f"{path}: column {name!r} holds {values.type}, not numbers")
    # Zero-copy for numbers without nulls (a view of the Arrow buffer); bools are unpacked.
    return values.to_numpy(zero_copy_only=False), row_shape


def _numpy(table: pa.Table, name: str, shape: tuple[int, ...] | None,
           path: Path) -> np.ndarray:
    """Column ``name`` as one ``(rows, *shape)`` array (``shape`` None: take it from the file).

    A single-chunk column is a zero-copy view of the Arrow buffer (read-only); a column in
    several chunks is copied once into a preallocated array.
    """
    column = table.column(name)
    chunks = column.chunks or [pa.array([], type=column.type)]
    parts = [_chunk_numpy(chunk, name, path) for chunk in chunks]
    row_shape = parts[0][1]
    if shape is not None and int(np.prod(row_shape)) != int(np.prod(shape)):
        if row_shape:
            raise DatasetFormatError(
                f"{path}: column {name!r} holds {int(np.prod(row_shape))} values per row, "
                f"metadata says {shape}"
            )
        raise DatasetFormatError(f"{path}: column {name!r} should hold arrays shaped {shape}")
    shape = row_shape if shape is None else shape
    if len(parts) == 1:
        return parts[0][0].reshape((len(column), *shape))
    out = np.empty((len(column), *shape), dtype=parts[0][0].dtype)
    flat = out.reshape(-1)
    offset = 0
    for values, _ in parts:
        flat[offset:offset + len(values)] = values
        offset += len(values)
    return out


def _space_shape(metadata: dict[str, Any], key: str) -> tuple[int, ...] | None:
    """Shape of the metadata's observation/action space, or None when it is not described."""
    description = metadata.get("env", {}).get(key)
    if not description:
        return None
    space = space_from_dict(description)
    return tuple(space.shape) if space.shape else ()


def read_parquet(directory: str | Path) -> tuple[DatasetArrays, dict[str, Any]]:
    """Read a dataset directory written by :func:`write_parquet`.

    Only the columns :class:`DatasetArrays` needs are read, memory-mapped; numeric columns are
    zero-copy, read-only views of the Arrow buffers (a file written by ``write_parquet`` up to
    ``ROW_GROUP`` rows is one chunk; larger ones are copied once, row group by row group).
    Shapes come from the metadata's spaces (or, when it has none, from the file).
    """
    directory = Path(directory)
    metadata = read_metadata(directory)
    obs_shape = _space_shape(metadata, "observation_space")
    act_shape = _space_shape(metadata, "action_space")
    steps_path, episodes_path = directory / STEPS_FILE, directory / EPISODES_FILE
    steps = _read_table(steps_path, STEP_READ_COLUMNS)
    episodes = _read_table(episodes_path, EPISODE_READ_COLUMNS)
    lengths = _numpy(episodes, "length", (), episodes_path).astype(np.int64)
    if len(lengths) == 0:
        raise DatasetFormatError(f"{episodes_path}: empty dataset (no episodes)")
    if int(lengths.sum()) != steps.num_rows:
        raise DatasetFormatError(
            f"{steps_path}: {steps.num_rows} rows but episode lengths sum to {int(lengths.sum())}"
        )
    if len(lengths) != metadata["episodes"]["count"]:
        raise DatasetFormatError(
            f"{episodes_path}: {len(lengths)} episodes but metadata says "
            f"{metadata['episodes']['count']}"
        )
    obs = _numpy(steps, "obs", obs_shape, steps_path)
    try:
        arrays = DatasetArrays(
            obs=obs,
            actions=_numpy(steps, "action", act_shape, steps_path),
            rewards=_numpy(steps, "reward", (), steps_path),
            terminated=_numpy(steps, "terminated", (), steps_path),
            truncated=_numpy(steps, "truncated", (), steps_path),
            lengths=lengths,
            final_obs=_numpy(episodes, "final_obs", obs.shape[1:], episodes_path),
            seeds=_numpy(episodes, "seed", (), episodes_path).astype(np.int64),
            attempts=_numpy(episodes, "attempts", (), episodes_path).astype(np.int64),
        )
    except ValueError as exc:
        raise DatasetFormatError(f"{directory}: {exc}") from None
    return arrays, metadata
