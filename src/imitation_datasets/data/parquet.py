"""Parquet storage: ``steps.parquet`` and ``episodes.parquet`` (see ``schema.py``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from imitation_datasets.core.atomic import atomic_path, atomic_write_text
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_read import arrow_file
from imitation_datasets.data.arrays import (
    DatasetArrays,
    as_flags,
    check_episode_flags,
    conform_to_spaces,
)
from imitation_datasets.data.arrow import arrow_numpy, flattened_array, step_numbers
from imitation_datasets.data.dataset_card import CARD_FILE, folder_card
from imitation_datasets.data.images import map_frames
from imitation_datasets.data.loaded import LoadedData, single_split
from imitation_datasets.data.mapped import (
    FINAL_FILE,
    FRAMES_FILE,
    STEPS_DIR,
    column_paths,
    is_mapped,
    map_column,
    release_pages,
    write_column,
)
from imitation_datasets.data.metadata import (
    EpisodeRecords,
    check_against_data,
    check_records,
    read_metadata,
    write_metadata,
)
from imitation_datasets.data.schema import (
    EPISODES_FILE,
    METADATA_FILE,
    STEPS_FILE,
    STEPS_FILE_NAMES,
    metadata_spaces,
)

ROW_GROUP = 1 << 20
READ_BATCH = 1 << 14  # rows decoded at a time by read_parquet
READ_BUFFER = 1 << 16  # bytes read from the file at a time
ACTION, REWARD, EPISODE_START = (STEPS_FILE_NAMES[key]
                                 for key in ("actions", "rewards", "episode_starts"))


def _table(columns: dict[str, np.ndarray]) -> pa.Table:
    return pa.Table.from_arrays([flattened_array(v) for v in columns.values()],
                          names=list(columns))


def _write_table(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP,
                       write_statistics=False)


def write_parquet(directory: str | Path, arrays: DatasetArrays, metadata: dict[str, Any], *,
                  mapped: bool = False) -> Path:
    """Write a dataset directory; ``metadata.json`` goes last, so its presence means complete.

    With ``mapped`` the steps are written as memory-mappable columns (``steps/*.npy``, see
    :mod:`~imitation_datasets.data.mapped`) instead of ``steps.parquet``.
    """
    if arrays.final_obs is None:
        raise DatasetFormatError("this format stores the final observation of every episode")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta_path = directory / "metadata.json"
    if meta_path.exists():
        meta_path.unlink()  # the old dataset is no longer complete
    if mapped:
        (directory / STEPS_DIR).mkdir(exist_ok=True)
        for field, path in column_paths(directory).items():
            values = getattr(arrays, field)
            write_column(path, values.astype(np.float64, copy=False) if field == "rewards"
                         else values)
    else:
        _write_table(_table({
            "episode_index": arrays.episode_index.astype(np.int32),
            "step": step_numbers(arrays.lengths),
            "obs": arrays.obs,
            ACTION: arrays.actions,
            REWARD: arrays.rewards.astype(np.float64, copy=False),
            "terminated": arrays.terminated,
            "truncated": arrays.truncated,
            EPISODE_START: arrays.episode_starts,
        }), directory / STEPS_FILE)
    finish_folder(directory, arrays, metadata)
    return directory


def finish_folder(directory: Path, arrays: DatasetArrays, metadata: dict[str, Any]) -> None:
    """Write ``episodes.parquet`` then ``metadata.json`` (last) once the steps are written.

    A mapped folder keeps its final observations in ``steps/final_obs.npy`` instead.
    """
    last = arrays.starts + arrays.lengths - 1
    assert arrays.final_obs is not None
    mapped = is_mapped(directory)
    if mapped:
        write_column(directory / STEPS_DIR / FINAL_FILE, np.asarray(arrays.final_obs))
    _write_table(_table({
        "episode_index": np.arange(arrays.n_episodes, dtype=np.int32),
        "seed": arrays.seeds,
        "return": arrays.returns,
        "length": arrays.lengths,
        "terminated": arrays.terminated[last],
        "truncated": arrays.truncated[last],
        **({} if mapped else {"final_obs": arrays.final_obs}),
        "attempts": arrays.attempts,
        "first_step": arrays.starts,
    }), directory / EPISODES_FILE)
    if not mapped:  # load_dataset(dir, "steps"): the card names steps.parquet
        atomic_write_text(directory / CARD_FILE, folder_card(metadata))
    write_metadata(directory, metadata)


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


EXPANSION_FLOOR = 1 << 30
"""A column decoding to up to this many bytes is read whatever the file's size."""
MAX_EXPANSION = 1000
"""A larger column may decode to at most this many times the file's size.

Real observations compress a few times at most (flags and constant columns far more, but they
are small); a small file declaring billions of rows is refused before anything is allocated.
Adjustable as ``parquet.MAX_EXPANSION``. (The sizes of single pages are not checked: reading
them from the footer, ``row_group(i).column(j)``, aborts the process on some malformed files.
pyarrow decodes a page into its declared size, at most 2 GiB.)
"""


def _leaf_type(kind: pa.DataType) -> pa.DataType:
    while pa.types.is_fixed_size_list(kind):
        kind = kind.value_type
    return kind


def _check_expansion(parquet: pq.ParquetFile, name: str, shape: tuple[int, ...],
                     file_size: int, path: Path) -> None:
    """Refuse a column whose declared decoded size is out of proportion to the file."""
    leaf = _leaf_type(parquet.schema_arrow.field(name).type)
    try:
        width = max(1, leaf.bit_width // 8)
    except ValueError:  # not a fixed-width type: _leaf refuses it when it is read
        width = 1
    declared = parquet.metadata.num_rows * math.prod(shape) * width
    limit = max(EXPANSION_FLOOR, MAX_EXPANSION * file_size)
    if declared > limit:
        raise DatasetFormatError(
            f"{path}: column {name!r} declares {declared} bytes of data in a {file_size}-byte "
            f"file (limit {limit}); refused as a decompression bomb")


def _read_columns(path: Path, columns: dict[str, tuple[int, ...] | None]
                  ) -> dict[str, np.ndarray]:
    """Read ``columns`` (name -> row shape from the metadata, or None) of a Parquet file.

    Each column is decoded in batches of ``READ_BATCH`` rows straight into one preallocated,
    contiguous array. Decoding a whole fixed-size-list column at once (``read_table``) needs
    per-value level buffers and a growing builder, 4-5x the column's size at peak; streaming
    keeps the peak near the arrays' own size. (Memory-mapping a compressed file saves nothing:
    its pages must be decompressed anyway, and the mapping adds them to the RSS.)

    Only a regular file is opened, and a column whose declared size is out of proportion to the
    file (:data:`MAX_EXPANSION`) is refused before anything is allocated.
    """
    out: dict[str, np.ndarray] = {}
    try:
        with arrow_file(path) as (source, file_size):
            parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=READ_BUFFER)
            schema = parquet.schema_arrow
            missing = [c for c in columns if c not in schema.names]
            if missing:
                raise DatasetFormatError(f"{path}: missing column(s) {missing}")
            for name, shape in columns.items():
                row_shape = _row_shape(schema.field(name).type)
                if shape is not None and math.prod(row_shape) != math.prod(shape):
                    if row_shape:
                        raise DatasetFormatError(
                            f"{path}: column {name!r} holds {math.prod(row_shape)} values "
                            f"per row, metadata says {shape}"
                        )
                    raise DatasetFormatError(
                        f"{path}: column {name!r} should hold arrays shaped {shape}")
                shape = row_shape if shape is None else shape
                _check_expansion(parquet, name, shape, file_size, path)
                out[name] = _read_column(parquet, name, shape, path)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None
    return out


def _read_column(parquet: pq.ParquetFile, name: str, shape: tuple[int, ...],
                 path: Path) -> np.ndarray:
    """One column streamed into one contiguous ``(rows, *shape)`` array."""
    rows = parquet.metadata.num_rows
    array: np.ndarray | None = None
    flat = None
    filled = 0
    for batch in parquet.iter_batches(batch_size=READ_BATCH, columns=[name], use_threads=False):
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
        leaf = _leaf_type(parquet.schema_arrow.field(name).type)
        if not (pa.types.is_integer(leaf) or pa.types.is_floating(leaf)
                or pa.types.is_boolean(leaf)):
            raise DatasetFormatError(f"{path}: column {name!r} holds {leaf}, not numbers")
        dtype = arrow_numpy(pa.Array.from_buffers(leaf, 0, [None, None])).dtype
        return np.empty((0, *shape), dtype=dtype)
    if filled != array.size:
        raise DatasetFormatError(
            f"{path}: column {name!r} has {filled} values, expected {array.size}")
    return array


def _shape(space: Any) -> tuple[int, ...] | None:
    return None if space is None else tuple(space.shape or ())


def read_parquet(directory: str | Path) -> tuple[DatasetArrays, dict[str, Any]]:
    """Read a dataset directory written by :func:`write_parquet`.

    Only the columns :class:`DatasetArrays` needs are read, each streamed into one contiguous
    array (see :func:`_read_columns`): about 0.5 s and 1.2-1.5x the arrays' bytes at peak for
    a million HalfCheetah-sized steps. Shapes come from the metadata's spaces (or, when it has
    none, from the file).

    The files must agree with each other and with the metadata, or the dataset is refused:
    ``steps.parquet``'s own ``episode_index``/``episode_start`` columns and ``episodes.parquet``'s
    ``first_step``/``return`` must match the episode lengths (read first, then freed: 5 bytes a
    step), flags must be 0/1 and set only on an episode's last step, and the metadata's counts
    and returns must be those of the data (:func:`~imitation_datasets.data.metadata.
    check_against_data`).

    Raises:
        DatasetFormatError: one line naming the file and the problem.
    """
    directory = Path(directory)
    metadata = read_metadata(directory)
    obs_space, act_space = metadata_spaces(metadata)
    obs_shape, act_shape = _shape(obs_space), _shape(act_space)
    steps_path, episodes_path = directory / STEPS_FILE, directory / EPISODES_FILE
    mapped = is_mapped(directory)
    episodes = _read_columns(episodes_path, {
        "episode_index": (), "length": (), "seed": (), "attempts": (), "first_step": (),
        "return": (), **({} if mapped else {"final_obs": obs_shape})})
    lengths = _episode_lengths(episodes, episodes_path, metadata)
    if mapped:
        steps_path = directory / STEPS_DIR
        steps = _mapped_steps(directory, lengths, obs_shape, act_shape)
        episodes["final_obs"] = map_column(steps_path / FINAL_FILE, len(lengths), obs_shape)
    else:
        _check_step_structure(steps_path, lengths)
        steps = _read_columns(steps_path, {"obs": obs_shape, ACTION: act_shape, REWARD: (),
                                           "terminated": (), "truncated": ()})
    flags = {name: as_flags(steps[name], f"column {name!r}", str(steps_path))
             for name in ("terminated", "truncated")}
    try:
        arrays = DatasetArrays(
            obs=steps["obs"],
            actions=steps[ACTION],
            rewards=steps[REWARD],
            **flags,
            lengths=lengths,
            final_obs=episodes["final_obs"].reshape((len(lengths), *steps["obs"].shape[1:])),
            seeds=episodes["seed"].astype(np.int64),
            attempts=episodes["attempts"].astype(np.int64),
        )
    except ValueError as exc:
        raise DatasetFormatError(f"{directory}: {exc}") from None
    check_episode_flags(arrays, str(steps_path))
    arrays = conform_to_spaces(arrays, obs_space, act_space, str(steps_path))
    _check_return_column(episodes["return"], arrays.returns, episodes_path)
    check_against_data(metadata, arrays, str(directory / METADATA_FILE))
    # read by the checks; mapped again when a batch needs them
    release_pages(arrays.rewards, arrays.terminated, arrays.truncated)
    return arrays, metadata


def _mapped_steps(directory: Path, lengths: np.ndarray, obs_shape: tuple[int, ...] | None,
                  act_shape: tuple[int, ...] | None) -> dict[str, Any]:
    """The mapped step columns, keyed as ``steps.parquet``'s (frames as an ``ImageColumn``)."""
    rows = int(lengths.sum())
    paths = column_paths(directory)
    frames = paths["obs"].with_name(FRAMES_FILE)
    return {"obs": (map_frames(frames, rows, obs_shape) if frames.exists()
                    else map_column(paths["obs"], rows, obs_shape)),
            ACTION: map_column(paths["actions"], rows, act_shape),
            **{name: map_column(paths[field], rows, ())
               for name, field in ((REWARD, "rewards"), ("terminated", "terminated"),
                                   ("truncated", "truncated"))}}


def _check_return_column(column: np.ndarray, returns: np.ndarray, path: Path) -> None:
    if not np.array_equal(column, returns, equal_nan=True):
        raise DatasetFormatError(f"{path}: column 'return' disagrees with the sum of the "
                                 f"rewards in {STEPS_FILE}")


def read_verified_metadata(directory: str | Path) -> dict[str, Any]:
    """``metadata.json`` of a dataset directory, checked against its data files (for ``info``).

    Everything the metadata summarises is recomputed from the files without loading the
    observations or actions: the episode table (lengths, seeds, attempts, returns, flags), the
    step count, ``steps.parquet``'s ``episode_index``/``episode_start`` columns, and the returns
    from its ``reward`` column (about 13 bytes read per step).

    Raises:
        DatasetFormatError: a file is missing or corrupt, or the metadata lies (one line naming
            the file and the field).
    """
    directory = Path(directory)
    metadata = read_metadata(directory)
    steps_path, episodes_path = directory / STEPS_FILE, directory / EPISODES_FILE
    episodes = _read_columns(episodes_path, {
        "episode_index": (), "length": (), "seed": (), "attempts": (), "first_step": (),
        "return": (), "terminated": (), "truncated": ()})
    lengths = _episode_lengths(episodes, episodes_path, metadata)
    if is_mapped(directory):
        rewards = map_column(column_paths(directory)["rewards"], int(lengths.sum()), ())
    else:
        _check_step_structure(steps_path, lengths)
        rewards = _read_columns(steps_path, {REWARD: ()})[REWARD]
    returns = np.add.reduceat(rewards.astype(np.float64, copy=False),
                              np.cumsum(lengths) - lengths)
    _check_return_column(episodes["return"], returns, episodes_path)
    flags = {name: int(as_flags(episodes[name], f"column {name!r}", str(episodes_path)).sum())
             for name in ("terminated", "truncated")}
    check_records(metadata, EpisodeRecords(
        n_steps=int(lengths.sum()), lengths=lengths, seeds=episodes["seed"].astype(np.int64),
        attempts=episodes["attempts"].astype(np.int64), returns=returns, **flags),
        str(directory / METADATA_FILE))
    return metadata


def _episode_lengths(episodes: dict[str, np.ndarray], path: Path,
                     metadata: dict[str, Any]) -> np.ndarray:
    """The ``length`` column, checked against ``episode_index``, ``first_step`` and the count."""
    lengths = episodes["length"].astype(np.int64)
    if len(lengths) == 0:
        raise DatasetFormatError(f"{path}: empty dataset (no episodes)")
    count = metadata["episodes"].get("count")
    if count is not None and len(lengths) != count:
        raise DatasetFormatError(f"{path}: {len(lengths)} episodes but metadata says {count}")
    if np.any(lengths < 1):
        raise DatasetFormatError(f"{path}: every episode needs at least one step")
    if not np.array_equal(episodes["episode_index"], np.arange(len(lengths))):
        raise DatasetFormatError(f"{path}: column 'episode_index' is not 0, 1, 2, ...")
    if not np.array_equal(episodes["first_step"], np.cumsum(lengths) - lengths):
        raise DatasetFormatError(f"{path}: column 'first_step' disagrees with column 'length'")
    return lengths


def _check_step_structure(path: Path, lengths: np.ndarray) -> None:
    """``steps.parquet``'s row count, ``episode_index`` and ``episode_start`` match ``lengths``."""
    rows = _parquet_rows(path)
    if int(lengths.sum()) != rows:
        raise DatasetFormatError(
            f"{path}: {rows} rows but episode lengths sum to {int(lengths.sum())}")
    columns = _read_columns(path, {"episode_index": (), EPISODE_START: ()})
    starts = np.flatnonzero(as_flags(columns[EPISODE_START], "column 'episode_start'",
                                     str(path)))
    if not np.array_equal(starts, np.cumsum(lengths) - lengths):
        raise DatasetFormatError(
            f"{path}: column 'episode_start' disagrees with the episode lengths of "
            f"{EPISODES_FILE}")
    index = columns["episode_index"]
    if not np.array_equal(index, np.repeat(np.arange(len(lengths), dtype=index.dtype), lengths)):
        raise DatasetFormatError(
            f"{path}: column 'episode_index' disagrees with the episode lengths of "
            f"{EPISODES_FILE}")


def _parquet_rows(path: Path) -> int:
    try:
        with arrow_file(path) as (source, _):
            return pq.read_metadata(source).num_rows
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or not Parquet ({exc})") from None


class ParquetFolder:
    """Storage backend ``"parquet"``: our dataset directory (see ``docs/format.md``)."""

    name = "parquet"

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """:func:`read_parquet` (one split only: ``"train"``)."""
        single_split(location, split)
        arrays, metadata = read_parquet(location)
        return LoadedData(arrays, metadata, origin or str(location))

    def write(self, data: LoadedData, location: str | Path) -> Path:
        """:func:`write_parquet` (the data must have metadata and final observations)."""
        if data.metadata is None:
            raise DatasetFormatError(f"{data.origin}: our dataset directory needs metadata")
        return write_parquet(location, data.arrays, data.metadata)
