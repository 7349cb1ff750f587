"""The default backend: persistent worker processes on this machine."""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import time
from collections import deque
from typing import Any

from imitation_datasets.collect.tally import CollectionError, Tally
from imitation_datasets.collect.worker import (
    WorkerSpec,
    forgive_stall,
    hung_message,
    run_worker,
)

logger = logging.getLogger(__name__)

STALL = 1.0
"""A longer gap between two turns of the loop (which turns every 0.2 s) stopped the controller."""


class _Pool:
    """The worker processes of one play phase, their inboxes and the indices each one holds."""

    def __init__(self, spec: WorkerSpec, todo: deque[int], threads: int, tally: Tally) -> None:
        self.spec, self.todo, self.threads, self.tally = spec, todo, threads, tally
        self.context: Any = mp.get_context(  # fork where it exists (docs/architecture.md)
            "fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.outbox = self.context.Queue()
        self.cap = 2 * spec.play.n_envs if spec.user_enjoy is None else 2
        self.workers: dict[int, Any] = {}
        self.inboxes: dict[int, Any] = {}
        self.outstanding: dict[int, set[int]] = {}
        self.last_seen: dict[int, float] = {}
        self.playing: dict[int, int] = {}
        """Index a user-enjoy worker announced last (``attempt`` messages)."""

    def refill(self, worker: int) -> None:
        """Keep ``worker``'s inbox ``cap`` indices ahead."""
        while self.todo and len(self.outstanding[worker]) < self.cap:
            index = self.todo.popleft()
            self.outstanding[worker].add(index)
            self.inboxes[worker].put(index)

    def launch(self, worker: int) -> None:
        """Start (or restart) ``worker`` with a fresh inbox."""
        self.inboxes[worker] = self.context.Queue()
        self.outstanding[worker] = set()
        self.refill(worker)
        process = self.context.Process(
            target=run_worker, args=(worker, self.spec, self.inboxes[worker], self.outbox),
            daemon=True, name=f"il-datasets-worker-{worker}")
        process.start()
        self.workers[worker] = process
        self.last_seen[worker] = time.monotonic()

    def replace_dead(self) -> None:
        """Restart workers that exited while holding indices; their indices are replayed."""
        for worker, process in list(self.workers.items()):
            if process.exitcode is None or not self.outstanding[worker]:
                continue
            self.tally.restarts += 1
            if self.tally.restarts > 3 * self.threads:
                raise CollectionError(
                    f"workers keep dying (last exit code {process.exitcode}); "
                    f"{self.tally.accepted} episodes are staged in {self.spec.staging.path}"
                )
            self.todo.extendleft(sorted(self.outstanding[worker], reverse=True))
            logger.warning("worker %d died (exit code %s); restarting it and replaying its "
                           "episodes", worker, process.exitcode)
            self.launch(worker)

    def stop_hung(self) -> None:
        """Kill a worker silent for longer than ``step_timeout`` and stop the run.

        Replaying its episodes would hang again, so the run stops with what is staged.
        """
        timeout = self.spec.step_timeout
        if timeout is None:
            return
        now = time.monotonic()
        for worker, process in self.workers.items():
            held = self.outstanding[worker]
            if held and process.exitcode is None and now - self.last_seen[worker] > timeout:
                process.kill()
                shown = [self.playing[worker]] if worker in self.playing else held
                raise CollectionError(hung_message(
                    f"worker {worker}", timeout, self.spec.play.env_id, shown,
                    self.tally.accepted, self.spec.staging.path))

    def handle(self, kind: str, worker: int, info: Any) -> None:
        """Act on one message from a worker."""
        self.last_seen[worker] = time.monotonic()
        if kind == "attempt":
            self.playing[worker] = info["index"]
            return
        if kind == "oserror":
            raise OSError(*info)
        if kind == "fatal":
            raise CollectionError(f"worker {worker} failed:\n{info}")
        self.tally.record(kind, info)
        self.outstanding[worker].discard(info["index"])
        self.playing.pop(worker, None)
        self.refill(worker)
        if not self.todo and not self.outstanding[worker]:
            self.inboxes[worker].put(None)

    def run(self) -> None:
        """Play until every index is staged (or a worker fails)."""
        for worker in range(self.threads):
            self.launch(worker)
        last_check = tick = time.monotonic()
        while any(self.outstanding.values()):
            tick = forgive_stall(self.last_seen, tick, STALL)
            if time.monotonic() - last_check > 0.5:
                last_check = time.monotonic()
                self.replace_dead()
                self.stop_hung()
            try:
                kind, worker, info = self.outbox.get(timeout=0.2)
            except queue.Empty:
                continue
            self.handle(kind, worker, info)

    def shutdown(self) -> None:
        """Ask live workers to stop; kill those still running after 2 s."""
        for worker, process in self.workers.items():
            if process.is_alive():
                self.inboxes[worker].put(None)
        deadline = time.monotonic() + 2.0
        for process in self.workers.values():
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def play_local(spec: WorkerSpec, todo: deque[int], threads: int, tally: Tally) -> None:
    """Play the indices in ``todo`` on ``threads`` processes; workers stage episodes themselves.

    Each worker has its own inbox, kept ``2 * n_envs`` indices ahead so it never idles. A worker
    that dies is replaced and the indices it held are replayed (same seeds, same bytes). A worker
    that holds indices but reports nothing for ``spec.step_timeout`` seconds is hung (an env step
    or enjoy call that never returns): replaying would hang again, so it is killed and the run
    stops with :class:`CollectionError`; what was staged is kept for a rerun.

    Raises:
        CollectionError: an episode failed, a worker hung, or workers keep dying.
        OSError: a worker could not write to the staging folder (names the path).
    """
    pool = _Pool(spec, todo, threads, tally)
    try:
        pool.run()
    finally:
        pool.shutdown()
