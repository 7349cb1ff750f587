"""Open only regular files, read them with a size limit, parse JSON without recursion errors.

Every reader of a dataset file goes through here, so a file that is a FIFO (which would block
``open`` forever), a device such as ``/dev/zero`` (endless), a directory or a huge file is
refused with a one-line :class:`~imitation_datasets.core.errors.DatasetFormatError` naming it,
before anything is read:

* :func:`open_regular` opens with ``O_NONBLOCK`` (opening a FIFO never blocks), then checks the
  *opened* descriptor with ``fstat`` (no window between the check and the use).
* :func:`read_bytes` reads at most ``max_bytes`` (the file's size is checked first, and the read
  stops one byte past the limit in case the file grows).
* :func:`read_json` parses at most :data:`MAX_JSON_BYTES` (64 MiB) and turns nesting too deep
  for the parser into an error instead of a ``RecursionError``.

The limits are module constants; a caller may pass its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from imitation_datasets.core.errors import DatasetFormatError

MAX_JSON_BYTES = 64 << 20
"""Largest JSON file read (``metadata.json`` of a million episodes is about 60 MB)."""

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for check, name in _KINDS:
        if check(mode):
            return name
    return "not a regular file"


def _refuse_irregular(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise DatasetFormatError(f"{path}: {_kind(mode)}, not a regular file; refused")


def require_regular(path: str | Path) -> os.stat_result:
    """``os.stat`` of ``path`` (following links), refusing anything but a regular file.

    Use :func:`open_regular` when the file is to be opened here; this is for paths handed to a
    library that opens them itself.

    Raises:
        DatasetFormatError: missing, unreadable, or not a regular file.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: missing") from None
    except OSError as exc:
        raise DatasetFormatError(f"{path}: unreadable ({exc.strerror or exc})") from None
    _refuse_irregular(path, info.st_mode)
    return info


def open_regular(path: str | Path, max_bytes: int | None = None,
                 missing: str = "missing") -> IO[bytes]:
    """Open ``path`` for binary reading if (and only if) it is a regular file.

    Args:
        path: the file (links are followed; what they lead to is checked).
        max_bytes: refuse a file larger than this (``None``: no limit).
        missing: the message when the file does not exist.

    Raises:
        DatasetFormatError: missing, unreadable, not a regular file, or too large.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: {missing}") from None
    except OSError as exc:
        raise DatasetFormatError(f"{path}: unreadable ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        _refuse_irregular(path, info.st_mode)
        if max_bytes is not None and info.st_size > max_bytes:
            raise DatasetFormatError(
                f"{path}: {info.st_size} bytes, more than the {max_bytes}-byte limit; refused")
        _blocking(fd)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _blocking(fd: int) -> None:
    """Clear ``O_NONBLOCK`` (meaningless for regular files, but leave the descriptor plain)."""
    with contextlib.suppress(ImportError, OSError):
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)


@contextlib.contextmanager
def arrow_file(path: str | Path) -> Iterator[tuple[Any, int]]:
    """``(pyarrow.OSFile, size)`` of a regular file, checked as :func:`open_regular` does.

    Arrow reads it natively (a Python file object would copy every read through Python). On
    Linux the checked descriptor itself is reopened (``/proc/self/fd``), so what Arrow opens is
    the very file that was checked.
    """
    import pyarrow as pa

    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        proc = Path(f"/proc/self/fd/{handle.fileno()}")
        with pa.OSFile(str(proc if proc.exists() else path)) as source:
            yield source, size


def read_bytes(path: str | Path, max_bytes: int, missing: str = "missing") -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(path, max_bytes, missing) as handle:
        # Ask for the size fstat gave (plus one, to notice growth): read(n) allocates n bytes.
        data = handle.read(min(os.fstat(handle.fileno()).st_size, max_bytes) + 1)
    if len(data) > max_bytes:
        raise DatasetFormatError(f"{path}: more than the {max_bytes}-byte limit; refused")
    return data


def parse_json(text: str | bytes, origin: str) -> Any:
    """``json.loads`` whose failures (syntax, bad encoding, nesting) are one-line errors.

    Raises:
        DatasetFormatError: naming ``origin``.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise DatasetFormatError(f"{origin}: JSON nested too deeply; refused") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetFormatError(f"{origin}: not valid JSON ({exc})") from None


def read_json(path: str | Path, max_bytes: int = MAX_JSON_BYTES,
              missing: str = "missing") -> Any:
    """Parse a JSON file of at most ``max_bytes`` (a regular file; see the module docstring)."""
    return parse_json(read_bytes(path, max_bytes, missing), str(path))
