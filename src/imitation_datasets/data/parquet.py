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
    EPISODES_FILE,
    STEPS_FILE,
    DatasetFormatError,
    space_from_dict,
)

ROW_GROUP = 1 << 20
READ_BATCH = 1 << 14  # rows decoded at a time by read_parquet
READ_BUFFER = 1 << 16  # bytes read from the file at a time


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


def arrow_numpy(array: pa.Array) -> np.ndarray:
    """A primitive Arrow array without nulls as NumPy, read from its buffers.

    Numbers are a zero-copy (read-only) view; bools are unpacked. (``Array.to_numpy`` imports
    pandas, a quarter of a second we do not need.)
    """
    kind = array.type
    data = array.buffers()[1]
    if pa.types.is_boolean(kind):
        if data is None:
            return np.zeros(0, dtype=bool)
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little",
                             count=array.offset + len(array))
        return bits[array.offset:].astype(bool)
    width = kind.bit_width
    if pa.types.is_floating(kind):
        dtype = np.dtype(f"float{width}")
    elif pa.types.is_signed_integer(kind):
        dtype = np.dtype(f"int{width}")
    elif pa.types.is_unsigned_integer(kind):
        dtype = np.dtype(f"uint{width}")
    else:
        raise TypeError(f"not a numeric Arrow type: {kind}")
    if data is None:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


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


def _row_shape(kind: pa.DataType) -> tuple[int, ...]:
    shape = []
    while pa.types.is_fixed_size_list(kind):
        shape.append(kind.list_size)
        kind = kind.value_type
    return tuple(shape)


def _leaf(array: pa.Array, name: str, path: Path) -> pa.Array:
    """The flat values of a (nested) fixed-size-list array, refusing missing values."""
    while True:
        if array.null_count:
            raise DatasetFormatError(f"{path}: column {name!r} has missing values")
        if not pa.types.is_fixed_size_list(array.type):
            break
        array = array.flatten()
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
            or pa.types.is_boolean(array.type)):
        raise DatasetFormatError(f"{path}: column {name!r} holds {array.type}, not numbers")
    return array


def _read_columns(path: Path, columns: dict[str, tuple[int, ...] | None]
                  ) -> dict[str, np.ndarray]:
    """Read ``columns`` (name -> row shape from the metadata, or None) of a Parquet file.

    Each column is decoded in batches of ``READ_BATCH`` rows straight into one preallocated,
    contiguous array. Decoding a whole fixed-size-list column at once (``read_table``) needs
    per-value level buffers and a growing builder, 4-5x the column's size at peak; streaming
    keeps the peak near the arrays' own size. (Memory-mapping a compressed file saves nothing:
    its pages must be decompressed anyway, and the mapping adds them to the RSS.)
    """
    if not path.is_file():
        raise DatasetFormatError(f"{path}: missing")
    out: dict[str, np.ndarray] = {}
    try:
        with pa.OSFile(str(path)) as source:
            parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=READ_BUFFER)
            schema = parquet.schema_arrow
            missing = [c for c in columns if c not in schema.names]
            if missing:
                raise DatasetFormatError(f"{path}: missing column(s) {missing}")
            rows = parquet.metadata.num_rows
            for name, shape in columns.items():
                kind = schema.field(name).type
                row_shape = _row_shape(kind)
                if shape is not None and int(np.prod(row_shape)) != int(np.prod(shape)):
                    if row_shape:
                        raise DatasetFormatError(
                            f"{path}: column {name!r} holds {int(np.prod(row_shape))} values "
                            f"per row, metadata says {shape}"
                        )
                    raise DatasetFormatError(
                        f"{path}: column {name!r} should hold arrays shaped {shape}")
                shape = row_shape if shape is None else shape
                array: np.ndarray | None = None
                flat = None
                filled = 0
                for batch in parquet.iter_batches(batch_size=READ_BATCH, columns=[name],
                                                  use_threads=False):
                    values = arrow_numpy(_leaf(batch.column(0), name, path))
                    if array is None:
                        array = np.empty((rows, *shape), dtype=values.dtype)
                        flat = array.reshape(-1)
                    assert flat is not None
                    if filled + len(values) > flat.size:
                        raise DatasetFormatError(f"{path}: column {name!r} has too many values")
                    flat[filled:filled + len(values)] = values
                    filled += len(values)
                if array is None:
                    leaf = kind
                    while pa.types.is_fixed_size_list(leaf):
                        leaf = leaf.value_type
                    dtype = arrow_numpy(pa.Array.from_buffers(leaf, 0, [None, None])).dtype
                    array = np.empty((0, *shape), dtype=dtype)
                elif filled != array.size:
                    raise DatasetFormatError(
                        f"{path}: column {name!r} has {filled} values, expected {array.size}")
                out[name] = array
    except (pa.ArrowException, OSError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None
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

    Only the columns :class:`DatasetArrays` needs are read, each streamed into one contiguous
    array (see :func:`_read_columns`): about 0.5 s and 1.2-1.5x the arrays' bytes at peak for
    a million HalfCheetah-sized steps. Shapes come from the metadata's spaces (or, when it has
    none, from the file).
    """
    directory = Path(directory)
    metadata = read_metadata(directory)
    obs_shape = _space_shape(metadata, "observation_space")
    act_shape = _space_shape(metadata, "action_space")
    steps_path, episodes_path = directory / STEPS_FILE, directory / EPISODES_FILE
    episodes = _read_columns(episodes_path, {"length": (), "seed": (), "attempts": (),
                                             "final_obs": obs_shape})
    lengths = episodes["length"].astype(np.int64)
    if len(lengths) == 0:
        raise DatasetFormatError(f"{episodes_path}: empty dataset (no episodes)")
    if len(lengths) != metadata["episodes"]["count"]:
        raise DatasetFormatError(
            f"{episodes_path}: {len(lengths)} episodes but metadata says "
            f"{metadata['episodes']['count']}"
        )
    rows = _parquet_rows(steps_path)
    if int(lengths.sum()) != rows:
        raise DatasetFormatError(
            f"{steps_path}: {rows} rows but episode lengths sum to {int(lengths.sum())}"
        )
    steps = _read_columns(steps_path, {"obs": obs_shape, "action": act_shape, "reward": (),
                                       "terminated": (), "truncated": ()})
    try:
        arrays = DatasetArrays(
            obs=steps["obs"],
            actions=steps["action"],
            rewards=steps["reward"],
            terminated=steps["terminated"],
            truncated=steps["truncated"],
            lengths=lengths,
            final_obs=episodes["final_obs"].reshape((len(lengths), *steps["obs"].shape[1:])),
            seeds=episodes["seed"].astype(np.int64),
            attempts=episodes["attempts"].astype(np.int64),
        )
    except ValueError as exc:
        raise DatasetFormatError(f"{directory}: {exc}") from None
    return arrays, metadata


def _parquet_rows(path: Path) -> int:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: missing")
    try:
        return pq.read_metadata(path).num_rows
    except (pa.ArrowException, OSError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None
