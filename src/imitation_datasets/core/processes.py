"""Worker processes that do not outlive the process that started them."""

from __future__ import annotations

import contextlib
import ctypes
import signal

PR_SET_PDEATHSIG = 1
"""Linux ``prctl`` option: the signal a process receives when its parent dies."""


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (best effort elsewhere).

    Called first thing in every worker (collection and benchmark cells): a driver that is
    killed (``kill PID``, an out-of-memory kill) takes its workers with it instead of leaving
    them computing, and writing, for minutes.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
