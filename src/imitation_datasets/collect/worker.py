"""Persistent worker processes: load the expert once, then play episodes until told to stop.

Protocol: the controller puts episode indices into a worker's inbox (``None`` means stop); the
worker answers on the shared outbox with ``("done", worker, info)`` when an index is accepted and
staged, ``("failed", worker, info)`` when its retries are exhausted, and ``("fatal", worker, text)``
when the worker itself cannot go on. Retries of an index stay in the worker that owns it.
A user ``enjoy`` loop also sends ``("attempt", worker, {"index": i, "attempt": a})`` before each
call, so the controller can tell a slow worker from a hung one (``step_timeout``); a write to the
staging folder that fails (full disk, read-only folder) is reported as ``("oserror", worker,
(errno, strerror, path))`` and raised in the controller as that :class:`OSError`.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import json
import math
import os
import queue
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.collect.functions import enjoy_outcome
from imitation_datasets.collect.options import DEFAULT_STEP_TIMEOUT
from imitation_datasets.collect.player import EpisodePlayer, PlaySpec, summary
from imitation_datasets.collect.staging import Staging
from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.processes import die_with_parent
from imitation_datasets.core.seeding import episode_seed


@dataclass
class WorkerSpec:
    """Everything a worker needs; shared with the worker by fork, never pickled to disk."""

    play: PlaySpec
    staging: Staging
    user_enjoy: Callable[..., Any] | None = None
    parent_pid: int = field(default_factory=os.getpid)
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT
    """See :data:`DEFAULT_STEP_TIMEOUT`; ``None`` waits forever."""


class StagingWriteError(ImitationDatasetsError):
    """A write to the staging folder failed; ``args`` are ``(errno, strerror, path)``."""


@contextlib.contextmanager
def staging_writes(path: str | Path) -> Iterator[None]:
    """Turn an :class:`OSError` of a staging write into :class:`StagingWriteError` naming a path.

    ``os.write`` on a descriptor (the episode logs) raises without a file name; ``path`` (the
    staging folder) is named then. An error without a number (a short write) counts as ``EIO``.
    """
    try:
        yield
    except OSError as exc:
        raise StagingWriteError(errno.EIO if exc.errno is None else exc.errno,
                                exc.strerror or str(exc), str(exc.filename or path)) from exc


def forgive_stall(last_seen: dict[int, float], previous: float, stall: float) -> float:
    """Shift ``last_seen`` by a stall of the controller's loop; return the time now.

    A gap since ``previous`` (the loop's last turn) longer than ``stall`` means the controller
    itself was stopped (Ctrl-Z, a debugger, a starved machine), not its workers: it must not
    count toward their ``step_timeout``.
    """
    now = time.monotonic()
    if now - previous > stall:
        for key in last_seen:
            last_seen[key] += now - previous
    return now


def hung_message(who: str, seconds: float, env_id: str, indices: Iterable[int],
                 accepted: int, staging_path: Path) -> str:
    """One-line message for a worker stopped by ``step_timeout`` (local and Ray backends)."""
    held = sorted(indices)
    shown = (f"episode {held[0]}" if len(held) == 1 else
             f"episodes {held[0]}-{held[-1]}" if held[-1] - held[0] == len(held) - 1 else
             "episodes " + ", ".join(map(str, held[:8])) + (", ..." if len(held) > 8 else ""))
    return (f"{who} made no progress for {seconds:g} s on {shown} of {env_id} (an env step or "
            f"enjoy call that never returns?) and was stopped; {accepted} accepted episodes are "
            f"kept in {staging_path}. Fix the environment and rerun the same command to resume, "
            "or raise the time-out (--step-timeout / Controller(step_timeout=...))")


@dataclass
class Context:
    """What a user ``enjoy(expert, path, context)`` function gets for one attempt.

    Attributes:
        index: episode index in the dataset.
        seed: reset seed for this attempt (use ``env.reset(seed=context.seed)``).
        attempt: 0 for the first attempt, then 1, 2, ... after rejections.
        threshold: minimum return the Controller expects.
        episode_return: set it to the episode's return so rejection statistics are recorded.
    """

    index: int
    seed: int
    attempt: int
    threshold: float
    episode_return: float = math.nan
    logs: list[str] = field(default_factory=list)

    def add_log(self, log: str) -> None:
        """Record a message for this episode (the original IL-Datasets API)."""
        self.logs.append(str(log))


def _parent_alive(spec: WorkerSpec) -> bool:
    return os.getppid() == spec.parent_pid


def _next_message(inbox: Any, spec: WorkerSpec) -> int | None:
    """Block until the controller sends an index or stop (``None``); exit if it died."""
    while True:
        try:
            return inbox.get(timeout=1.0)
        except queue.Empty:
            if not _parent_alive(spec):
                os._exit(0)


def _call_user_enjoy(enjoy: Callable[..., Any], policy: Any, path: str, context: Context) -> Any:
    params = inspect.signature(enjoy).parameters
    if {"expert", "path", "context"} <= set(params):
        return enjoy(expert=policy, path=path, context=context)
    return enjoy(policy, path, context)


def run_worker(worker: int, spec: WorkerSpec, inbox: Any, outbox: Any) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the controller handles Ctrl-C
    die_with_parent()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        if spec.user_enjoy is None:
            _batched_loop(worker, spec, inbox, outbox)
        else:
            if spec.play.policy is not None and hasattr(spec.play.policy, "load"):
                spec.play.policy.load()
            _user_loop(worker, spec, inbox, outbox)
    except StagingWriteError as exc:
        outbox.put(("oserror", worker, exc.args))
    except Exception:  # noqa: BLE001 - report, then let the controller decide
        outbox.put(("fatal", worker, traceback.format_exc()))


def _batched_loop(worker: int, spec: WorkerSpec, inbox: Any, outbox: Any) -> None:
    player = EpisodePlayer(spec.play)
    stop = False

    def next_index() -> int | None:
        nonlocal stop
        if stop:
            return None
        try:
            message = inbox.get_nowait()
        except queue.Empty:
            return None
        stop = message is None
        return message

    handed: list[int] = []

    def take() -> int | None:
        return handed.pop() if handed else next_index()

    with staging_writes(spec.staging.path):
        log = spec.staging.open_log(f"w{worker}")
    while not stop:
        first = _next_message(inbox, spec)
        if first is None:
            break
        handed.append(first)
        for result in player.play(take):
            with staging_writes(spec.staging.path):
                for attempt, seed, text in result.errors:
                    spec.staging.log_error(result.summary["index"], attempt, seed, text)
                if result.episode is not None:
                    spec.staging.append(log, result.summary["index"], result.episode.to_bytes())
            outbox.put((result.kind, worker, result.summary))
            if not _parent_alive(spec):
                os._exit(0)
    os.close(log)
    player.close()


def _user_loop(worker: int, spec: WorkerSpec, inbox: Any, outbox: Any) -> None:
    enjoy = spec.user_enjoy
    assert enjoy is not None  # run_worker calls this loop only for a user enjoy
    path = str(spec.staging.dataset_dir) + os.sep
    while True:
        index = _next_message(inbox, spec)
        if index is None:
            return
        history: list[float] = []
        for attempt in range(spec.play.max_attempts):
            seed = episode_seed(spec.play.dataset_seed, index, attempt)
            context = Context(index, seed, attempt, spec.play.threshold)
            outbox.put(("attempt", worker, {"index": index, "attempt": attempt}))
            try:
                accepted, returned = enjoy_outcome(
                    _call_user_enjoy(enjoy, spec.play.policy, path, context))
                if returned is not None and math.isnan(context.episode_return):
                    context.episode_return = returned  # 1.0.0's (accepted, return)
            except Exception:  # noqa: BLE001 - logged and retried
                with staging_writes(spec.staging.path):
                    spec.staging.log_error(index, attempt, seed, traceback.format_exc())
                history.append(math.nan)
                continue
            if accepted:
                record = summary(index, attempt, seed, context.episode_return, 0, history)
                record["logs"] = context.logs
                with staging_writes(spec.staging.path):
                    atomic_write_text(spec.staging.marker_path(index),
                                      json.dumps(record, default=_json_default))
                outbox.put(("done", worker, record))
                break
            history.append(context.episode_return)
        else:
            outbox.put(("failed", worker, summary(index, spec.play.max_attempts - 1,
                                                   seed, math.nan, 0, history)))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
