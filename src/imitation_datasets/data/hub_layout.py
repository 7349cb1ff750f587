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
=================  ==========================================================================

The original's files (JSONL on the hub) have only the first four columns; ours add the rest,
which the original's readers ignore. Files written before ``next_obs`` existed carry
``final_obs`` instead (set only on each episode's last row, null elsewhere: HuggingFace's
numpy/torch formatters cannot batch it); both are read. Per-episode seeds, attempts and
provenance travel in ``metadata.json`` beside the data files.

This module converts between such Arrow tables (or Parquet/JSONL files) and
:class:`~imitation_datasets.data.arrays.DatasetArrays`, validating as it goes: missing columns,
missing values, ragged observations and mismatched lengths are refused with a message naming
the file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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
from imitation_datasets.data.arrow import arrow_numpy, flat_array, nested_array, step_numbers
from imitation_datasets.data.images import ImageColumn, is_image_column
from imitation_datasets.data.original import arrays_from_columns, canonical_columns
from imitation_datasets.data.schema import metadata_spaces


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


def _final_obs(array: pa.Array | pa.ChunkedArray, arrays_last: np.ndarray, origin: str
               ) -> np.ndarray | None:
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
    return dense(array.filter(pa.array(present)), "final_obs", origin)


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
    if ("next_obs" in names or "final_obs" in found) and isinstance(columns["obs"], np.ndarray):
        starts = columns["episode_starts"].astype(bool).reshape(-1)
        if len(starts) == len(columns["obs"]) and len(starts) and starts[0]:
            last = np.append(np.flatnonzero(starts)[1:], len(starts)) - 1
            final: np.ndarray | None
            if "next_obs" in names:
                next_obs = dense(table.column("next_obs"), "next_obs", origin)
                if next_obs.size == columns["obs"].size:  # scalar observations, as obs
                    next_obs = next_obs.reshape(columns["obs"].shape)
                final = _final_from_next(next_obs, columns["obs"], last, origin)
            else:
                final = _final_obs(table.column("final_obs"), last, origin)
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
def next_observations(arrays: DatasetArrays) -> np.ndarray | None:
    """``(T, *obs_shape)`` observation after each step (``None`` without final observations).

    The next row's ``obs`` inside an episode, the episode's final observation on its last row.
    """
    if arrays.final_obs is None or not isinstance(arrays.obs, np.ndarray):
        return None
    next_obs = np.empty_like(arrays.obs)
    next_obs[:-1] = arrays.obs[1:]
    next_obs[arrays.starts + arrays.lengths - 1] = arrays.final_obs
    return next_obs


def hub_table(arrays: DatasetArrays) -> pa.Table:
    """``arrays`` as a hub-layout Arrow table (see the module docstring)."""
    obs = arrays.obs.values if isinstance(arrays.obs, ImageColumn) else nested_array(arrays.obs)
    columns: dict[str, pa.Array] = {
        "obs": obs,
        "actions": nested_array(arrays.actions),
        "rewards": flat_array(arrays.rewards.astype(np.float64, copy=False)),
        "episode_starts": flat_array(arrays.episode_starts),
        "terminated": flat_array(arrays.terminated),
        "truncated": flat_array(arrays.truncated),
        "episode_index": flat_array(arrays.episode_index.astype(np.int32)),
        "step": flat_array(step_numbers(arrays.lengths)),
    }
    next_obs = next_observations(arrays)
    if next_obs is not None:
        columns["next_obs"] = nested_array(next_obs)
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


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


def write_hub_parquet(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as one hub-layout Parquet file (atomically)."""
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(hub_table(arrays), tmp, compression="zstd", write_statistics=False)
    return path


__all__ = ["fit_to_metadata", "next_observations",
           "columns_from_table", "dense",
           "hub_table", "read_hub_files", "read_table_file", "write_hub_parquet", "write_jsonl"]
