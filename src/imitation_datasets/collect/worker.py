"""Persistent worker processes: load the expert once, then play episodes until told to stop.

Protocol: the controller puts episode indices into a worker's inbox (``None`` means stop); the
worker answers on the shared outbox with ``("done", worker, info)`` when an index is accepted and
staged, ``("failed", worker, info)`` when its retries are exhausted, and ``("fatal", worker, text)``
when the worker itself cannot go on. Retries of an index stay in the worker that owns it.
"""

from __future__ import annotations

import contextlib
import ctypes
import inspect
import json
import math
import os
import queue
import signal
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from imitation_datasets.collect.rollout import EpisodeRunner, make_env
from imitation_datasets.collect.staging import Staging, atomic_write_text
from imitation_datasets.seeding import episode_seed


@dataclass
class WorkerSpec:
    """Everything a worker needs; shared with the worker by fork, never pickled to disk."""

    env_id: str
    env_kwargs: dict[str, Any]
    policy: Any
    random_actions: bool
    dataset_seed: int
    threshold: float
    max_attempts: int
    staging: Staging
    n_envs: int = 16
    user_enjoy: Callable[..., Any] | None = None
    parent_pid: int = field(default_factory=os.getpid)


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
    staging: Staging | None = None
    episode_return: float = math.nan
    logs: list[str] = field(default_factory=list)

    def add_log(self, log: str) -> None:
        """Record a message for this episode (the original IL-Datasets API)."""
        self.logs.append(str(log))


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (best effort elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


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
    _die_with_parent()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        if spec.policy is not None and hasattr(spec.policy, "load"):
            spec.policy.load()
        if spec.user_enjoy is None:
            _batched_loop(worker, spec, inbox, outbox)
        else:
            _user_loop(worker, spec, inbox, outbox)
    except Exception:  # noqa: BLE001 - report, then let the controller decide
        outbox.put(("fatal", worker, traceback.format_exc()))


def _batched_loop(worker: int, spec: WorkerSpec, inbox: Any, outbox: Any) -> None:
    runner = EpisodeRunner(
        partial(make_env, spec.env_id, spec.env_kwargs),
        spec.policy,
        n_envs=spec.n_envs,
        random_actions=spec.random_actions,
    )
    pending: deque[tuple[int, int]] = deque()
    rejected: dict[int, list[float]] = {}
    stop = False

    def next_job() -> tuple[tuple[int, int], int] | None:
        nonlocal stop
        if not pending and not stop:
            try:
                message = inbox.get_nowait()
            except queue.Empty:
                return None
            if message is None:
                stop = True
            else:
                pending.append((message, 0))
        if not pending:
            return None
        index, attempt = pending.popleft()
        return (index, attempt), episode_seed(spec.dataset_seed, index, attempt)

    while True:
        if not pending and not stop:
            message = _next_message(inbox, spec)
            if message is None:
                stop = True
            else:
                pending.append((message, 0))
        if stop and not pending:
            break
        for outcome in runner.run(next_job):
            index, attempt = outcome.key
            history = rejected.setdefault(index, [])
            if outcome.episode is None:
                spec.staging.log_error(index, attempt, outcome.seed, outcome.error or "")
                history.append(math.nan)
            elif outcome.episode_return >= spec.threshold:
                episode = outcome.episode
                episode.index, episode.attempt = index, attempt
                episode.rejected_returns = tuple(history)
                episode.save(spec.staging.episode_path(index))
                del rejected[index]
                outbox.put(("done", worker, _summary(index, attempt, outcome.seed,
                                                     episode.episode_return, episode.length,
                                                     history)))
                continue
            else:
                history.append(outcome.episode_return)
            if attempt + 1 < spec.max_attempts:
                pending.appendleft((index, attempt + 1))
            else:
                del rejected[index]
                outbox.put(("failed", worker, _summary(index, attempt, outcome.seed,
                                                       math.nan, 0, history)))
            if not _parent_alive(spec):
                os._exit(0)
    runner.close()


def _summary(index: int, attempt: int, seed: int, episode_return: float, length: int,
             rejected: list[float]) -> dict[str, Any]:
    return {
        "index": index,
        "attempts": attempt + 1,
        "seed": seed,
        "return": episode_return,
        "length": length,
        "rejected_returns": [r for r in rejected if not math.isnan(r)],
        "errors": sum(1 for r in rejected if math.isnan(r)),
    }


def _user_loop(worker: int, spec: WorkerSpec, inbox: Any, outbox: Any) -> None:
    path = str(spec.staging.dataset_dir) + os.sep
    while True:
        index = _next_message(inbox, spec)
        if index is None:
            return
        history: list[float] = []
        for attempt in range(spec.max_attempts):
            seed = episode_seed(spec.dataset_seed, index, attempt)
            context = Context(index, seed, attempt, spec.threshold, spec.staging)
            try:
                accepted = bool(_call_user_enjoy(spec.user_enjoy, spec.policy, path, context))
            except Exception:  # noqa: BLE001 - logged and retried
                spec.staging.log_error(index, attempt, seed, traceback.format_exc())
                history.append(math.nan)
                continue
            if accepted:
                summary = _summary(index, attempt, seed, context.episode_return, 0, history)
                summary["logs"] = context.logs
                atomic_write_text(spec.staging.marker_path(index),
                                  json.dumps(summary, default=_json_default))
                outbox.put(("done", worker, summary))
                break
            history.append(context.episode_return)
        else:
            outbox.put(("failed", worker, _summary(index, spec.max_attempts - 1,
                                                   seed, math.nan, 0, history)))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
