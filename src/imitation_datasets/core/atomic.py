"""Atomic file writes: the one place that decides how a file replaces another.

A file is written to a hidden temporary name in its folder, flushed, ``fsync``-ed (unless the
caller says the file is replayable), then renamed over the target: a reader sees the old file or
the new one, never a torn one, and a crash leaves at most a temporary file that the next write
replaces. Folders written whole are :mod:`imitation_datasets.collect.folder`'s business.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    For writers that take a path (``pyarrow.parquet.write_table``, ``numpy.savez``,
    ``safetensors``). On an exception the temporary file is removed (a full disk must not stay
    full because of it) and ``path`` is left as it was.

    Args:
        path: the file to create or replace.
        durable: ``fsync`` the file before the rename. ``False`` only for files that are
            replayed when lost (staged episodes).
    """
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path, durable=durable) as tmp, open(tmp, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically (see :func:`atomic_path`)."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)
