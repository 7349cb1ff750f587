"""Memory-mapped step columns: datasets larger than memory, loaded in milliseconds.

A *mapped* dataset folder is our dataset directory with its steps stored uncompressed, one
``.npy`` file per column, instead of ``steps.parquet`` (``docs/format.md``, "Mapped datasets"):

```
steps/obs.npy       (T, *obs_shape)   the observations, in the space's dtype
steps/action.npy    (T,) or (T, *act_shape)
steps/reward.npy    (T,) float64
steps/terminated.npy, steps/truncated.npy   (T,) bool
steps/final_obs.npy (E, *obs_shape)   the observation after each episode's last step
steps/state.npy, steps/final_state.npy   a pixel dataset's states, when kept (``--keep-states``)
episodes.parquet    as in every dataset of ours, without its final_obs column
```

Image observations (``uint8 H x W x C`` frames, a pixel dataset) are stored compressed instead:
``steps/obs.arrow`` holds one PNG per step in an Arrow IPC stream file with HuggingFace's
``Image`` feature (:class:`~imitation_datasets.data.images.FrameWriter`), memory-mapped and
decoded one frame at a time when read.

```
metadata.json       the same keys; written last
```

Loading maps the files read-only: nothing is decoded or copied, so opening a 20M-step dataset
takes milliseconds and its steps take no anonymous memory (the pages read are the kernel's page
cache, shared by every process mapping the file; :func:`release_pages` unmaps them from this
process).

A column file is a plain NumPy ``.npy`` file (version 1.0 header, C order, little-endian), the
bytes ``numpy.save`` writes: ``numpy.load(path, mmap_mode="r")`` reads it without this library.
Reading never unpickles (object dtypes are refused) and checks the header against the file size.
:class:`ColumnWriter` writes one chunk at a time, so a dataset never has to fit in memory.
"""

from __future__ import annotations

import contextlib
import math
import mmap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_read import require_regular

STEPS_DIR = "steps"
"""Folder of a mapped dataset's step columns."""
COLUMN_FILES = {"obs": "obs.npy", "actions": "action.npy", "rewards": "reward.npy",
                "terminated": "terminated.npy", "truncated": "truncated.npy"}
"""The column files of :data:`STEPS_DIR`, by :class:`~imitation_datasets.data.arrays.
DatasetArrays` field."""
FINAL_FILE = "final_obs.npy"
"""A mapped dataset's final observations, in :data:`STEPS_DIR` (not in ``episodes.parquet``,
whose nested-list decoding costs about 20 bytes of memory per value: 400 MB for 1,000 final
84x84 frames)."""
FRAMES_FILE = "obs.arrow"
"""The compressed observations of a pixel dataset, in :data:`STEPS_DIR`."""
STATE_FILES = ("state.npy", "final_state.npy")
"""A pixel dataset's state observations (``collect --pixels --keep-states``), in
:data:`STEPS_DIR`: ``(T, *state_shape)`` per step and ``(E, *state_shape)`` after each
episode's last step, in the state space's dtype."""
MAX_HEADER_BYTES = 10_000
"""Largest ``.npy`` header parsed (numpy's own default bound)."""
CHUNK_ROWS = 1 << 20
"""Rows a whole-column check reads before releasing a mapped column's pages."""


def is_frames(values: Any) -> bool:
    """Whether ``(rows, ...)`` observations are image frames (``uint8``, ``H x W x C``)."""
    shape: tuple[int, ...] = tuple(getattr(values, "shape", ()))
    return (len(shape) == 4 and getattr(values, "dtype", None) == np.uint8
            and shape[3] in (1, 3, 4))


def is_mapped(directory: str | Path) -> bool:
    """Whether ``directory`` stores its steps as mapped columns (a ``steps/`` folder)."""
    return (Path(directory) / STEPS_DIR).is_dir()


class ColumnWriter:
    """Writes one ``(rows, *row_shape)`` ``.npy`` column chunk by chunk, atomically.

    The header is written first (the row count is known up front), then each chunk's bytes;
    :meth:`close` checks that exactly ``rows`` rows were written, ``fsync``-s and renames the
    file into place. The bytes are those of ``numpy.save`` on the whole array.

    Raises:
        ValueError: a chunk of another row shape, or more or fewer rows than announced.
    """

    def __init__(self, path: str | Path, rows: int, row_shape: tuple[int, ...],
                 dtype: Any) -> None:
        self.path = Path(path)
        self.rows = int(rows)
        self.row_shape = tuple(int(n) for n in row_shape)
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.written = 0
        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._file: BinaryIO = self._stack.enter_context(open(tmp, "wb"))  # noqa: SIM115
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (self.rows, *self.row_shape)}
        np.lib.format.write_array_header_1_0(self._file, header)

    def write(self, chunk: np.ndarray) -> None:
        """Append rows (cast to the column's dtype)."""
        chunk = np.asarray(chunk)
        if tuple(chunk.shape[1:]) != self.row_shape:
            raise ValueError(f"{self.path.name}: rows shaped {chunk.shape[1:]}, the column's "
                             f"are {self.row_shape}")
        if self.written + len(chunk) > self.rows:
            raise ValueError(f"{self.path.name}: more than the {self.rows} rows announced")
        self._file.write(np.ascontiguousarray(chunk, dtype=self.dtype).tobytes())
        self.written += len(chunk)

    def close(self) -> None:
        """Finish the file (it appears under its name only now)."""
        if self.written != self.rows:
            self.abort()
            raise ValueError(f"{self.path.name}: {self.written} rows written, {self.rows} "
                             "announced")
        self._stack.close()

    def abort(self) -> None:
        """Remove the unfinished file."""
        with contextlib.suppress(BaseException):
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)


def write_column(path: str | Path, values: np.ndarray) -> None:
    """Write a whole column (the bytes of ``numpy.save``)."""
    writer = ColumnWriter(path, len(values), values.shape[1:], values.dtype)
    try:
        writer.write(values)
    except BaseException:
        writer.abort()
        raise
    writer.close()


def map_column(path: str | Path, rows: int, row_shape: tuple[int, ...] | None = None
               ) -> np.ndarray:
    """A read-only, memory-mapped view of a ``.npy`` column holding ``rows`` rows.

    ``row_shape`` (from the metadata's space) is checked when given (same number of values per
    row; the view takes that shape).

    Raises:
        DatasetFormatError: not a regular file, a malformed or oversized header, an object or
            big-endian dtype, Fortran order, another row count or row shape, or a file size that
            disagrees with the header.
    """
    path = Path(path)
    try:
        size = require_regular(path).st_size
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: missing") from None
    with open(path, "rb") as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                    handle, max_header_size=MAX_HEADER_BYTES)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                    handle, max_header_size=MAX_HEADER_BYTES)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, OSError, SyntaxError) as exc:
            raise DatasetFormatError(f"{path}: not a readable .npy column ({exc})") from None
        offset = handle.tell()
        _check_header(path, shape, fortran, dtype, rows, row_shape)
        nbytes = math.prod(shape) * dtype.itemsize
        if size != offset + nbytes:
            raise DatasetFormatError(f"{path}: {size} bytes, the header describes "
                                     f"{offset + nbytes}")
        if row_shape is not None:
            shape = (rows, *row_shape)
        if nbytes == 0:
            return np.empty(shape, dtype=dtype)
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mapping, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        mapping.madvise(mmap.MADV_RANDOM)  # batches gather rows anywhere: no read-ahead
    return np.frombuffer(mapping, dtype=dtype, count=math.prod(shape),
                         offset=offset).reshape(shape)


def _check_header(path: Path, shape: tuple[int, ...], fortran: bool, dtype: np.dtype,
                  rows: int, row_shape: tuple[int, ...] | None) -> None:
    if dtype.hasobject or dtype.kind not in "biuf" or dtype.byteorder == ">":
        raise DatasetFormatError(f"{path}: dtype {dtype} refused (numbers or bools, "
                                 "little-endian, only)")
    if fortran:
        raise DatasetFormatError(f"{path}: Fortran order refused (C order only)")
    if not shape or shape[0] != rows:
        raise DatasetFormatError(f"{path}: shape {shape}, expected {rows} rows")
    if row_shape is not None and math.prod(shape[1:]) != math.prod(row_shape):
        raise DatasetFormatError(f"{path}: rows shaped {shape[1:]}, the metadata's space is "
                                 f"{row_shape}")


def _mapping(array: Any) -> mmap.mmap | None:
    """The ``mmap`` an array's memory belongs to, if any (following views to their base)."""
    base = getattr(array, "mapping", None) or array  # an ImageColumn names its mapping
    while base is not None and not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return base


def is_memory_mapped(array: Any) -> bool:
    """Whether ``array`` (or the array it is a view of) lies in a memory-mapped file."""
    return _mapping(array) is not None


def release_pages(*arrays: Any) -> None:
    """Unmap the pages of memory-mapped arrays from this process (their data stays valid).

    The kernel keeps the pages in its cache, so reading them again is a minor fault, not a disk
    read; this process's resident size drops by what it had mapped. Arrays that are not
    memory-mapped are ignored.
    """
    for array in arrays:
        mapping = _mapping(array)
        if mapping is not None and hasattr(mmap, "MADV_DONTNEED") and not mapping.closed:
            mapping.madvise(mmap.MADV_DONTNEED)


def map_states(directory: str | Path, lengths: np.ndarray,
               row_shape: tuple[int, ...] | None = None
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """A pixel dataset's kept states ``(per step, final)``, memory-mapped; ``None`` if not kept.

    ``row_shape`` (the metadata's ``env.state_space``) is checked when given.

    Raises:
        DatasetFormatError: only one of the two files, or files whose rows disagree with the
            episodes (:func:`map_column`).
    """
    steps = Path(directory) / STEPS_DIR
    paths = [steps / name for name in STATE_FILES]
    present = [path.exists() for path in paths]
    if not any(present):
        return None
    if not all(present):
        missing = paths[present.index(False)]
        raise DatasetFormatError(f"{missing}: missing (the states are kept in "
                                 f"{' and '.join(STATE_FILES)})")
    states = map_column(paths[0], int(np.sum(lengths)), row_shape)
    final = map_column(paths[1], len(lengths), row_shape)
    if states.shape[1:] != final.shape[1:] or states.dtype != final.dtype:
        raise DatasetFormatError(f"{paths[1]}: rows {final.dtype}{list(final.shape[1:])}, "
                                 f"{STATE_FILES[0]}'s are {states.dtype}"
                                 f"{list(states.shape[1:])}")
    return states, final


def column_paths(directory: str | Path) -> dict[str, Path]:
    """The column files of a mapped dataset folder, by ``DatasetArrays`` field."""
    steps = Path(directory) / STEPS_DIR
    return {field: steps / name for field, name in COLUMN_FILES.items()}


def chunks(values: np.ndarray, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, values[start:start + rows])`` over a whole column, in order.

    A memory-mapped column's pages are released after each chunk, so a check that reads every
    row keeps at most one chunk resident.
    """
    mapped = is_memory_mapped(values)
    for start in range(0, len(values), rows):
        yield start, values[start:start + rows]
        if mapped:
            release_pages(values)
