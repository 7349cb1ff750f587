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
    if not path.is_file():
        raise DatasetFormatError(f"{path}: missing")
    try:
        table = pq.read_table(path, memory_map=True)
    except (pa.ArrowException, OSError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DatasetFormatError(f"{path}: missing column(s) {missing}")
    return table


def _numpy(table: pa.Table, name: str, shape: tuple[int, ...], path: Path) -> np.ndarray:
    column = table.column(name)
    if column.null_count:
        raise DatasetFormatError(f"{path}: column {name!r} has missing values")
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_fixed_size_list(array.type):
        width = array.type.list_size
        if width != int(np.prod(shape)):
            raise DatasetFormatError(
                f"{path}: column {name!r} holds {width} values per row, metadata says {shape}"
            )
        values = array.values.to_numpy(zero_copy_only=False)
        return values.reshape((len(array), *shape))
    if shape not in ((), (1,)):
        raise DatasetFormatError(f"{path}: column {name!r} should hold arrays shaped {shape}")
    values = array.to_numpy(zero_copy_only=False)
    return values if shape == () else values.reshape(-1, 1)


def read_parquet(directory: str | Path) -> tuple[DatasetArrays, dict[str, Any]]:
    """Read a dataset directory written by :func:`write_parquet`."""
    directory = Path(directory)
    metadata = read_metadata(directory)
    obs_space = space_from_dict(metadata["env"]["observation_space"])
    act_space = space_from_dict(metadata["env"]["action_space"])
    steps_path, episodes_path = directory / STEPS_FILE, directory / EPISODES_FILE
    steps = _read_table(steps_path, STEP_COLUMNS)
    episodes = _read_table(episodes_path, EPISODE_COLUMNS)
    obs_shape = tuple(obs_space.shape)
    act_shape = tuple(act_space.shape) if act_space.shape else ()
    lengths = _numpy(episodes, "length", (), episodes_path).astype(np.int64)
    if int(lengths.sum()) != steps.num_rows:
        raise DatasetFormatError(
            f"{steps_path}: {steps.num_rows} rows but episode lengths sum to {int(lengths.sum())}"
        )
    if len(lengths) != metadata["episodes"]["count"]:
        raise DatasetFormatError(
            f"{episodes_path}: {len(lengths)} episodes but metadata says "
            f"{metadata['episodes']['count']}"
        )
    arrays = DatasetArrays(
        obs=_numpy(steps, "obs", obs_shape, steps_path),
        actions=_numpy(steps, "action", act_shape, steps_path),
        rewards=_numpy(steps, "reward", (), steps_path),
        terminated=_numpy(steps, "terminated", (), steps_path),
        truncated=_numpy(steps, "truncated", (), steps_path),
        lengths=lengths,
        final_obs=_numpy(episodes, "final_obs", obs_shape, episodes_path),
        seeds=_numpy(episodes, "seed", (), episodes_path).astype(np.int64),
        attempts=_numpy(episodes, "attempts", (), episodes_path).astype(np.int64),
    )
    return arrays, metadata
