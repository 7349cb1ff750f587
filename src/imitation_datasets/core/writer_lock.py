"""One writer per folder: an exclusive lock file, held by one process and dropped when it dies.

Dataset folders (:mod:`imitation_datasets.collect.folder`) and benchmark results folders
(:mod:`imitation_datasets.benchmark.results_lock`) are written by one process at a time. The lock
is ``fcntl.lockf`` on a lock file: it belongs to the process, not to its forked or spawned
workers, and the OS drops it when the process dies, so a crash never leaves a folder locked. The
file stays (removing lock files races with the next writer); it holds only the last holder's
pid, which the error names. POSIX locks do not exclude two threads of one process, so a
process-wide set refuses a second holder in the same process too. A lock file name taken by a
link, a folder or a FIFO is refused (:class:`LockFileError`), never followed or waited on.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from imitation_datasets.core.errors import OneLineError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]


class LockFileError(OneLineError, ValueError):
    """The lock file's name is taken by something else than a plain file (a link, a folder)."""


_HELD: set[str] = set()
"""Lock files this process holds."""
_HELD_GUARD = threading.Lock()


@contextlib.contextmanager
def hold_writer_lock(lock_path: Path, busy: Callable[[str | None], Exception]) -> Iterator[None]:
    """Hold the exclusive lock on ``lock_path`` for the ``with`` block.

    Raises:
        Exception: ``busy(holder)`` when another process or thread holds it; ``holder`` is
            ``"pid N"`` (or ``None`` if the lock file names no pid).
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    key = str(lock_path.resolve())
    with _HELD_GUARD:
        if key in _HELD:  # never open the file then: closing it would drop our POSIX lock
            raise busy(f"pid {os.getpid()}, this process")
        _HELD.add(key)
    try:
        fd = _open_lock_file(lock_path)
        try:
            if fcntl is not None:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise busy(_holder(fd)) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock
    finally:
        with _HELD_GUARD:
            _HELD.discard(key)


def _open_lock_file(lock_path: Path) -> int:
    """Open (or create) the lock file; never through a link, never anything but a plain file.

    The lock file lies in a folder the user may have been handed: a symbolic link there must
    not make us truncate the file it points to, and a FIFO or device must not block us.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as exc:
        raise LockFileError(f"{lock_path}: cannot open the lock file ({exc.strerror}); it must "
                            "be a plain file, not a link or a folder") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LockFileError(f"{lock_path}: the lock file is not a plain file; remove it")
    return fd


def _holder(fd: int) -> str | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return f"pid {text}" if text.isdigit() else None
