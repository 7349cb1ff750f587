"""The default backend: persistent worker processes on this machine."""

from __future__ import annotations

import multiprocessing as mp
import queue
import sys
import time
from collections import deque
from typing import Any

from imitation_datasets.collect.tally import CollectionError, Tally
from imitation_datasets.collect.worker import WorkerSpec, run_worker


def play_local(spec: WorkerSpec, todo: deque[int], threads: int, tally: Tally) -> None:
    """Play the indices in ``todo`` on ``threads`` processes; workers stage episodes themselves.

    Each worker has its own inbox, kept ``2 * n_envs`` indices ahead so it never idles. A worker
    that dies is replaced and the indices it held are replayed (same seeds, same bytes).
    """
    context = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    outbox = context.Queue()
    cap = 2 * spec.play.n_envs if spec.user_enjoy is None else 2
    workers: dict[int, Any] = {}
    inboxes: dict[int, Any] = {}
    outstanding: dict[int, set[int]] = {}

    def refill(worker: int) -> None:
        while todo and len(outstanding[worker]) < cap:
            index = todo.popleft()
            outstanding[worker].add(index)
            inboxes[worker].put(index)

    def launch(worker: int) -> None:
        inboxes[worker] = context.Queue()
        outstanding[worker] = set()
        refill(worker)
        process = context.Process(target=run_worker, args=(worker, spec, inboxes[worker], outbox),
                                  daemon=True, name=f"il-datasets-worker-{worker}")
        process.start()
        workers[worker] = process

    def replace_dead() -> None:
        for worker, process in list(workers.items()):
            if process.exitcode is None or not outstanding[worker]:
                continue
            tally.restarts += 1
            if tally.restarts > 3 * threads:
                raise CollectionError(
                    f"workers keep dying (last exit code {process.exitcode}); "
                    f"{tally.accepted} episodes are staged in {spec.staging.path}"
                )
            todo.extendleft(sorted(outstanding[worker], reverse=True))
            print(f"worker {worker} died (exit code {process.exitcode}); restarting it and "
                  "replaying its episodes", file=sys.stderr)
            launch(worker)

    try:
        for worker in range(threads):
            launch(worker)
        last_check = time.monotonic()
        while any(outstanding.values()):
            if time.monotonic() - last_check > 0.5:
                last_check = time.monotonic()
                replace_dead()
            try:
                kind, worker, info = outbox.get(timeout=0.2)
            except queue.Empty:
                continue
            if kind == "fatal":
                raise CollectionError(f"worker {worker} failed:\n{info}")
            tally.record(kind, info)
            outstanding[worker].discard(info["index"])
            refill(worker)
            if not todo and not outstanding[worker]:
                inboxes[worker].put(None)
    finally:
        for worker, process in workers.items():
            if process.is_alive():
                inboxes[worker].put(None)
        deadline = time.monotonic() + 2.0
        for process in workers.values():
            process.join(timeout=max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
