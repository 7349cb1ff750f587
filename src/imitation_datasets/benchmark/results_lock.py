"""One benchmark run per results folder at a time.

Two runs into one folder would each plan their cells at their start and redo the cells the
other wrote since (same numbers, wasted hours), and both rewrite the report. Every command that
plans, runs and reports a grid (:func:`~imitation_datasets.benchmark.runner.run_benchmark`,
``il-datasets benchmark``, ``benchmarks/cell_queue.py``) holds ``<out>/.writer.lock`` for its
whole run (:mod:`imitation_datasets.core.writer_lock`: released when the process ends, even
killed); a second one stops at once with :class:`ResultsBusyError`. Reading a folder (reports,
plots, the README blocks) takes no lock: every file in it is written atomically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.writer_lock import hold_writer_lock

LOCK_FILE = ".writer.lock"


class ResultsBusyError(OneLineError, RuntimeError):
    """Another benchmark run is writing the results folder."""


@contextlib.contextmanager
def results_writer(out: str | Path) -> Iterator[None]:
    """Hold ``out``'s writer lock for the ``with`` block (creating ``out`` if needed).

    Raises:
        ResultsBusyError: another process (or thread) runs a benchmark into ``out``.
    """
    out = Path(out)

    def busy(holder: str | None) -> ResultsBusyError:
        who = f" ({holder})" if holder else ""
        return ResultsBusyError(
            f"{out}: another benchmark run is writing this results folder{who}; wait for it "
            f"to finish or choose another --out (lock file {out / LOCK_FILE})")

    with hold_writer_lock(out / LOCK_FILE, busy):
        yield
