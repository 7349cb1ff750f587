"""The hub layout: one row per step, the original IL-Datasets columns first.

=================  ==========================================================================
column             content
=================  ==========================================================================
``obs``            observation before the action (a list, nested for images; or an image path,
                   encoded image bytes, or a HuggingFace ``Image`` struct)
``actions``        action (int for Discrete, list of floats for Box)
``rewards``        reward
``episode_starts`` true on each episode's first step
``terminated``     ours: true on the last step of an episode that reached a terminal state
``truncated``      ours: true on the last step of an episode cut by the time limit
``episode_index``  ours: episode number; ``step``: step number inside the episode
``next_obs``       ours: the observation after the action, on every row (the next row's
                   ``obs`` inside an episode, the final observation on its last row);
                   shaped and typed as ``obs``, so HuggingFace's numpy/torch formatting
                   and ``DataLoader`` batch every column
``final_obs``      ours, image observations only (instead of ``next_obs``, which would hold
                   every frame twice): each episode's final frame (PNG, an ``Image`` struct)
                   on its last row, null elsewhere
=================  ==========================================================================

The original's files (JSONL on the hub) have only the first four columns; ours add the rest,
which the original's readers ignore. Files written before ``next_obs`` existed carry
``final_obs`` instead (set only on each episode's last row, null elsewhere: HuggingFace's
numpy/torch formatters cannot batch it); both are read. Per-episode seeds, attempts and
provenance travel in ``metadata.json`` beside the data files. ``Image``-struct columns are
named as HuggingFace ``Image`` features in the Arrow schema's ``huggingface`` metadata, so
``datasets`` decodes them as PIL images.

Writing streams: :func:`hub_batches` builds the rows a bounded batch at a time, which the
Parquet (:func:`write_hub_shards`, :func:`write_hub_parquet`) and Arrow IPC
(:func:`write_hub_stream`) writers consume one by one.

This module converts between such Arrow tables (or Parquet/JSONL files) and
:class:`~imitation_datasets.data.arrays.DatasetArrays`, validating as it goes: missing columns,
missing values, ragged observations and mismatched lengths are refused with a message naming
the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_read import require_regular
from imitation_datasets.data.arrays import DatasetArrays, conform_to_spaces
from imitation_datasets.data.arrow import arrow_numpy, flat_array, nested_array
from imitation_datasets.data.images import (
    HF_IMAGE_SCHEMA,
    ImageColumn,
    encode_png,
    is_image_column,
)
from imitation_datasets.data.mapped import release_pages
from imitation_datasets.data.original import arrays_from_columns, canonical_columns
from imitation_datasets.data.schema import metadata_spaces

MAX_FINAL_FRAME_BYTES = 1 << 30
"""Largest size of the final frames a hub file's ``final_obs`` image column decodes to (they are
held decoded, one per episode: 50,000 episodes of 84x84 RGB frames). A module constant a user
may raise."""


# ---------------------------------------------------------------------------- reading
def _storage(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if isinstance(array.type, pa.ExtensionType):  # HuggingFace ArrayXD
        array = array.storage
    return array


def dense(array: pa.Array | pa.ChunkedArray, name: str, origin: str) -> np.ndarray:
    """A numeric column (scalars, or lists nested to any depth) as one ``(rows, *shape)`` array.

    Raises:
        DatasetFormatError: missing values, ragged lists, or values that are not numbers.
    """
    array = _storage(array)
    rows = len(array)
    shape: list[int] = []
    while True:
        if array.null_count:
            raise DatasetFormatError(f"{origin}: column {name!r} has missing values")
        kind = array.type
        if pa.types.is_fixed_size_list(kind):
            shape.append(kind.list_size)
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            lengths = arrow_numpy(pc.list_value_length(array))
            if len(lengths) and np.any(lengths != lengths[0]):
                bad = int(np.flatnonzero(lengths != lengths[0])[0])
                what = "ragged observations" if name in ("obs", "final_obs") else "ragged rows"
                raise DatasetFormatError(
                    f"{origin}: {what} in column {name!r}: list {bad} has {lengths[bad]} values, "
                    f"list 0 has {lengths[0]}"
                )
            shape.append(int(lengths[0]) if len(lengths) else 0)
        else:
            break
        array = array.flatten()
    if not (pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
            or pa.types.is_boolean(array.type)):
        raise DatasetFormatError(f"{origin}: column {name!r} holds {array.type}, not numbers")
    return arrow_numpy(array).reshape((rows, *shape))


def _final_rows(array: pa.Array | pa.ChunkedArray, arrays_last: np.ndarray, origin: str
                ) -> pa.Array | None:
    """``final_obs`` rows (set on each episode's last step) or None when the column is empty."""
    array = _storage(array)
    present = ~arrow_numpy(array.is_null())
    if not present.any():
        return None
    where = np.flatnonzero(present)
    if len(where) != len(arrays_last) or np.any(where != arrays_last):
        raise DatasetFormatError(
            f"{origin}: final_obs must be set on exactly the last step of every episode "
            f"({len(where)} rows set for {len(arrays_last)} episodes)"
        )
    return array.filter(pa.array(present))


def _decoded_frames(frames: ImageColumn, shape: tuple[int, ...], origin: str) -> np.ndarray:
    """Every image of ``frames`` decoded, each shaped ``shape`` (the observations' frames).

    Raises:
        DatasetFormatError: a frame of another shape, or more than
            :data:`MAX_FINAL_FRAME_BYTES` of decoded frames (checked before decoding: a few
            bytes of PNG can declare a large image).
    """
    size = len(frames) * int(np.prod(shape))
    if size > MAX_FINAL_FRAME_BYTES:
        raise DatasetFormatError(
            f"{origin}: {len(frames)} final frames of {shape} decode to {size:,} bytes, more "
            f"than the {MAX_FINAL_FRAME_BYTES:,}-byte limit (hub_layout.MAX_FINAL_FRAME_BYTES)")
    out = np.empty((len(frames), *shape), dtype=np.uint8)
    for episode in range(len(frames)):
        frame = frames[episode]
        if frame.shape != shape:
            raise DatasetFormatError(f"{origin}: final_obs of episode {episode} is an image "
                                     f"shaped {frame.shape}, the observations {shape}")
        out[episode] = frame
    return out


def _final_from_next(next_obs: np.ndarray, obs: np.ndarray, last: np.ndarray, origin: str
                     ) -> np.ndarray:
    """Each episode's final observation from ``next_obs``, which must continue ``obs``.

    Inside an episode ``next_obs[t]`` is ``obs[t + 1]``; a file where it is not is refused
    (the transitions it describes would not be the ones our loader builds).
    """
    if next_obs.shape != obs.shape:
        raise DatasetFormatError(f"{origin}: next_obs rows are shaped {next_obs.shape[1:]}, "
                                 f"obs rows {obs.shape[1:]}")
    inside = np.ones(len(obs), dtype=bool)
    inside[last] = False
    rows = np.flatnonzero(inside)
    if not np.array_equal(next_obs[rows], obs[rows + 1],
                          equal_nan=next_obs.dtype.kind == "f" and obs.dtype.kind == "f"):
        bad = rows[np.flatnonzero(np.any((next_obs[rows] != obs[rows + 1]).reshape(
            len(rows), -1), axis=1))[0]]
        raise DatasetFormatError(f"{origin}: next_obs of row {bad} is not the obs of row "
                                 f"{bad + 1}, in the same episode")
    return next_obs[last]


def columns_from_table(table: pa.Table, origin: str, base_dir: Path | None = None
                       ) -> dict[str, Any]:
    """Original-layout columns (NumPy, or an :class:`ImageColumn` for image observations)."""
    found = canonical_columns(table.column_names)
    missing = [key for key in ("obs", "actions", "rewards", "episode_starts") if key not in found]
    if missing:
        raise DatasetFormatError(
            f"{origin}: missing column(s) {missing} (found {table.column_names}); expected the "
            "IL-Datasets layout: obs, actions, rewards, episode_starts"
        )
    if table.num_rows == 0:
        raise DatasetFormatError(f"{origin}: empty dataset")
    columns: dict[str, Any] = {}
    obs = _storage(table.column(found["obs"]))
    if is_image_column(obs.type):
        columns["obs"] = ImageColumn(obs, base_dir, origin)
    else:
        columns["obs"] = dense(obs, "obs", origin)
        if columns["obs"].ndim == 1:  # scalar observations (as the original did)
            columns["obs"] = columns["obs"].reshape(-1, 1)
    for key in ("actions", "rewards", "episode_starts", "terminated", "truncated"):
        if key in found:
            columns[key] = dense(table.column(found[key]), found[key], origin)
    names = table.column_names
    image = isinstance(columns["obs"], ImageColumn)
    if "final_obs" in found if image else ("next_obs" in names or "final_obs" in found):
        starts = columns["episode_starts"].astype(bool).reshape(-1)
        if len(starts) == len(columns["obs"]) and len(starts) and starts[0]:
            last = np.append(np.flatnonzero(starts)[1:], len(starts)) - 1
            final: np.ndarray | None = None
            if "next_obs" in names and not image:
                next_obs = dense(table.column("next_obs"), "next_obs", origin)
                if next_obs.size == columns["obs"].size:  # scalar observations, as obs
                    next_obs = next_obs.reshape(columns["obs"].shape)
                final = _final_from_next(next_obs, columns["obs"], last, origin)
            elif (rows := _final_rows(table.column("final_obs"), last, origin)) is not None:
                final = _decoded_frames(ImageColumn(rows, base_dir, origin),
                                        columns["obs"][0].shape, origin) if image else \
                    dense(rows, "final_obs", origin)
            if final is not None:
                columns["final_obs"] = final.reshape((len(final), *columns["obs"].shape[1:]))
    return columns


def read_table_file(path: Path) -> pa.Table:
    """A Parquet or JSONL file as an Arrow table (memory-mapped Parquet; no pandas).

    Only a regular file is opened (a FIFO or device is refused, not waited on or read forever).
    """
    require_regular(path)
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path, memory_map=True)
        import pyarrow.json as pj

        return pj.read_json(path)
    except (pa.ArrowException, OSError) as exc:
        kind = "Parquet" if path.suffix == ".parquet" else "JSON lines"
        raise DatasetFormatError(f"{path}: corrupt or not {kind} ({exc})") from None


def fit_to_metadata(arrays: DatasetArrays, metadata: dict[str, Any] | None, origin: str
                    ) -> DatasetArrays:
    """Arrays read from hub-layout columns, fitted to our metadata (when there is some).

    The columns keep the rows' shape but not always the dtype (JSON lines, ``datasets``
    features): shapes must be the metadata's spaces' exactly; values are cast to their dtypes
    only when none changes (float data under a ``uint8`` space is refused, not turned into
    zeros; see :func:`~imitation_datasets.data.arrays.conform_to_spaces`). Per-episode seeds and
    attempts, which the layout does not hold, come from the metadata.
    """
    if metadata is None:
        return arrays
    arrays = conform_to_spaces(arrays, *metadata_spaces(metadata), origin, cast=True)
    episodes = metadata["episodes"]
    records = {key: np.asarray(episodes[name], dtype=np.int64)
               for key, name in (("seeds", "seed"), ("attempts", "attempts"))
               if len(episodes.get(name, ())) == arrays.n_episodes}
    return replace(arrays, **records)


def read_hub_files(files: Sequence[Path], origin: str, base_dir: Path | None,
                   metadata: dict[str, Any] | None = None) -> DatasetArrays:
    """Read hub-layout data files (Parquet/JSONL, concatenated in order) into arrays."""
    tables = [read_table_file(Path(f)) for f in files]
    if len(tables) == 1:
        table = tables[0]
    else:
        try:
            table = pa.concat_tables(tables, promote_options="permissive")
        except pa.ArrowException as exc:
            raise DatasetFormatError(f"{origin}: data files do not share columns ({exc})") \
                from None
    arrays = arrays_from_columns(columns_from_table(table, origin, base_dir), origin)
    return fit_to_metadata(arrays, metadata, origin)


# ---------------------------------------------------------------------------- writing
def next_observations(arrays: DatasetArrays, start: int = 0, stop: int | None = None
                      ) -> np.ndarray | None:
    """The observation after each step of rows ``[start, stop)`` (default: every row).

    Shaped ``(stop - start, *obs_shape)``: the next row's ``obs`` inside an episode, the
    episode's final observation on its last row; ``None`` without final observations.
    """
    if arrays.final_obs is None or not isinstance(arrays.obs, np.ndarray):
        return None
    stop = arrays.n_steps if stop is None else stop
    next_obs = np.empty((stop - start, *arrays.obs.shape[1:]), dtype=arrays.obs.dtype)
    inside = max(0, min(stop + 1, arrays.n_steps) - (start + 1))
    next_obs[:inside] = arrays.obs[start + 1:start + 1 + inside]
    ends = arrays.starts + arrays.lengths - 1
    last = np.flatnonzero((ends >= start) & (ends < stop))
    next_obs[ends[last] - start] = arrays.final_obs[last]
    return next_obs


IMAGE_TYPE = HF_IMAGE_SCHEMA.field(0).type
"""Arrow type of HuggingFace's ``Image`` feature: ``struct<bytes: binary, path: string>``."""
BATCH_BYTES = 32 << 20
"""Uncompressed bytes of one record batch an export builds at a time (its memory bound)."""
SHARD_BYTES = 512 << 20
"""Uncompressed bytes of one Parquet shard of a hub folder (hub files of ~0.5 GB)."""
IMAGE_FEATURE = {"_type": "Image"}
"""HuggingFace's ``Image`` feature: a column of this type written with it in the Arrow schema's
``huggingface`` metadata is decoded by ``datasets`` as PIL images, without this library."""


def _image_features(schema: pa.Schema) -> dict[str, bytes]:
    """``huggingface`` schema metadata naming every ``Image``-struct column (empty if none)."""
    images = {field.name: IMAGE_FEATURE for field in schema if field.type == IMAGE_TYPE}
    return {"huggingface": json.dumps({"info": {"features": images}}).encode()} if images else {}


def _final_frames(arrays: DatasetArrays, last: np.ndarray, ends: np.ndarray, start: int,
                  stop: int) -> pa.Array:
    """``final_obs`` of image observations on rows ``[start, stop)`` (``Image`` structs).

    Each episode's final frame, PNG-encoded, on its last row; null elsewhere.
    """
    assert arrays.final_obs is not None
    encoded: list[bytes | None] = [None] * (stop - start)
    for episode in last:
        encoded[int(ends[episode]) - start] = encode_png(arrays.final_obs[episode])
    present = pa.array(encoded, pa.binary())
    return pa.StructArray.from_arrays([present, pa.nulls(stop - start, pa.string())],
                                      fields=list(IMAGE_TYPE), mask=present.is_null())


def row_bytes(arrays: DatasetArrays) -> int:
    """Average uncompressed bytes of one hub-layout row (for batch and shard sizes)."""
    rows = max(arrays.n_steps, 1)
    if isinstance(arrays.obs, ImageColumn):
        obs = -(-arrays.obs.values.nbytes // rows)  # buffer sizes: no page is read
    else:
        obs = _width(arrays.obs) * (1 if arrays.final_obs is None else 2)  # with next_obs
    return max(1, int(obs + _width(arrays.actions) + 8 + 8 + 3))


def _width(values: np.ndarray) -> int:
    """Bytes of one row of ``values``."""
    return int(values.itemsize * np.prod(values.shape[1:], dtype=np.int64))


def _row_range(arrays: DatasetArrays, start: int, stop: int) -> dict[str, pa.Array]:
    """Rows ``[start, stop)`` of the hub-layout columns (episode columns from the lengths)."""
    starts = arrays.starts
    rows = np.arange(start, stop, dtype=np.int64)
    episode = np.searchsorted(starts, rows, side="right") - 1
    first = np.zeros(stop - start, dtype=bool)
    first[rows == starts[episode]] = True
    if isinstance(arrays.obs, ImageColumn):
        obs = arrays.obs.values.slice(start, stop - start)
        obs = obs.combine_chunks() if isinstance(obs, pa.ChunkedArray) else obs
    else:
        obs = nested_array(np.ascontiguousarray(arrays.obs[start:stop]))
    columns: dict[str, pa.Array] = {
        "obs": obs,
        "actions": nested_array(np.ascontiguousarray(arrays.actions[start:stop])),
        "rewards": flat_array(np.asarray(arrays.rewards[start:stop], dtype=np.float64)),
        "episode_starts": flat_array(first),
        "terminated": flat_array(np.asarray(arrays.terminated[start:stop], dtype=bool)),
        "truncated": flat_array(np.asarray(arrays.truncated[start:stop], dtype=bool)),
        "episode_index": flat_array(episode.astype(np.int32)),
        "step": flat_array((rows - starts[episode]).astype(np.int32)),
    }
    if arrays.final_obs is None:
        return columns
    if isinstance(arrays.obs, ImageColumn):  # frames: the final one on each last row
        ends = starts + arrays.lengths - 1
        last = np.flatnonzero((ends >= start) & (ends < stop))
        columns["final_obs"] = _final_frames(arrays, last, ends, start, stop)
        return columns
    following = next_observations(arrays, start, stop)
    assert following is not None  # final observations, array observations
    columns["next_obs"] = nested_array(following)
    return columns


def hub_batches(arrays: DatasetArrays, start: int = 0, stop: int | None = None,
                batch_bytes: int = BATCH_BYTES) -> Iterator[pa.RecordBatch]:
    """Rows ``[start, stop)`` of ``arrays`` as hub-layout record batches, in order.

    Each batch holds about ``batch_bytes`` (at least one row), built from the arrays' rows
    only: a memory-mapped dataset's pages are released after each batch, so an export holds
    one batch at a time whatever the dataset's size. The schema carries the ``Image`` feature
    (:data:`IMAGE_FEATURE`) on the columns of encoded images.
    """
    stop = arrays.n_steps if stop is None else stop
    step = max(1, batch_bytes // row_bytes(arrays))
    for first in range(start, stop, step) or [start]:  # an empty dataset: one empty batch
        columns = _row_range(arrays, first, min(first + step, stop))
        batch = pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))
        batch = batch.replace_schema_metadata(_image_features(batch.schema) or None)
        yield batch
        del columns, batch  # not alive while the next batch is built
        release_pages(arrays.obs, arrays.actions, arrays.rewards, arrays.terminated,
                      arrays.truncated, arrays.final_obs)


def hub_table(arrays: DatasetArrays) -> pa.Table:
    """``arrays`` as one hub-layout Arrow table in memory (see the module docstring).

    For small data; exports stream :func:`hub_batches` instead.
    """
    batches = list(hub_batches(arrays))
    if not batches:
        raise ValueError("no steps to write")
    return pa.Table.from_batches(batches)


def write_batches(batches: Iterator[pa.RecordBatch],
                  open_writer: Callable[[pa.Schema], Any]) -> None:
    """Write ``batches`` with the writer ``open_writer(schema)`` returns, holding one at a time.

    ``open_writer`` gets the first batch's schema; the writer needs ``write_batch`` and
    ``close`` (Arrow IPC and Parquet writers). Each batch is dropped once written, before the
    next is built.
    """
    writer = None
    try:
        for batch in batches:
            if writer is None:
                writer = open_writer(batch.schema)
            writer.write_batch(batch)
            del batch
    finally:
        if writer is not None:
            writer.close()


def write_hub_stream(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as an Arrow IPC stream (what ``datasets.Dataset.from_file`` maps)."""
    path = Path(path)
    with atomic_path(path) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        write_batches(hub_batches(arrays), lambda schema: pa.ipc.new_stream(sink, schema))
    return path


def write_jsonl(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as JSON lines in the hub layout (the original's upload format).

    Every row has ``next_obs`` when the final observations are known.
    """
    path = Path(path)
    if isinstance(arrays.obs, ImageColumn):
        obs = [arrays.obs.raw(i) for i in range(len(arrays.obs))]
        if any(isinstance(v, bytes) for v in obs):
            raise DatasetFormatError("image bytes cannot be written as JSON lines; use Parquet")
    else:
        obs = arrays.obs.tolist()
    next_obs = next_observations(arrays)
    following = None if next_obs is None else next_obs.tolist()
    columns = zip(obs, arrays.actions.tolist(), arrays.rewards.tolist(),
                  arrays.episode_starts.tolist(), arrays.terminated.tolist(),
                  arrays.truncated.tolist(), arrays.episode_index.tolist(), strict=True)
    step = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for row, (o, a, r, start, term, trunc, episode) in enumerate(columns):
            step = 0 if start else step + 1
            record = {"obs": o, "actions": a, "rewards": r, "episode_starts": start,
                      "terminated": term, "truncated": trunc, "episode_index": episode,
                      "step": step}
            if following is not None:
                record["next_obs"] = following[row]
            handle.write(json.dumps(record, allow_nan=True) + "\n")
    return path


def _write_parquet(arrays: DatasetArrays, path: Path, start: int, stop: int) -> None:
    """Rows ``[start, stop)`` as one Parquet file (atomically), a row group per batch."""
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        write_batches(hub_batches(arrays, start, stop), lambda schema: pq.ParquetWriter(
            tmp, schema, compression="zstd", write_statistics=False))


def write_hub_parquet(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as one hub-layout Parquet file (atomically, streamed batch by batch)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_parquet(arrays, path, 0, arrays.n_steps)
    return path


def shard_name(split: str, index: int, count: int) -> str:
    """The hub's name of shard ``index`` of ``count``: ``<split>-00000-of-00003.parquet``."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def write_hub_shards(arrays: DatasetArrays, folder: str | Path, split: str,
                     shard_bytes: int = SHARD_BYTES) -> list[Path]:
    """Write ``arrays`` as Parquet shards ``folder/<split>-0000i-of-0000N.parquet``.

    Each shard holds about ``shard_bytes`` of uncompressed rows (at least one row; one shard
    for a small dataset), written atomically and streamed batch by batch. Shards of ``split``
    left in ``folder`` by an earlier write with another shard count are removed afterwards,
    so the folder holds exactly this dataset's shards.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    total = arrays.n_steps
    count = max(1, min(total, -(-total * row_bytes(arrays) // shard_bytes)))
    bounds = [total * i // count for i in range(count + 1)]  # sizes differ by one row at most
    paths = [folder / shard_name(split, i, count) for i in range(count)]
    for i, path in enumerate(paths):
        _write_parquet(arrays, path, bounds[i], bounds[i + 1])
    pattern = re.compile(re.escape(split) + r"-\d{5}-of-\d{5}\.parquet")
    for stale in folder.glob(f"{split}-*-of-*.parquet"):
        if pattern.fullmatch(stale.name) and stale not in paths:
            stale.unlink()
    return paths


__all__ = ["fit_to_metadata", "next_observations",
           "columns_from_table", "dense", "hub_batches", "row_bytes", "shard_name",
           "hub_table", "read_hub_files", "read_table_file", "write_hub_parquet",
           "write_hub_shards", "write_hub_stream", "write_jsonl"]
