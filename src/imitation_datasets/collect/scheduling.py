"""The play phase: which episodes are left, how many workers play them, on which backend.

Episodes already staged (a resumed run) are skipped; the rest go to the local pool
(:mod:`~imitation_datasets.collect.local_backend`) or to Ray actors
(:mod:`~imitation_datasets.collect.ray_backend`). The number of workers never changes the data,
so it is capped at the episodes left and, locally, at :data:`MAX_WORKERS_PER_CPU` per CPU.
Before any worker starts, :func:`check_policy` tries the policy once, so a policy whose actions
do not fit the action space stops the run at once instead of failing every attempt.
"""

from __future__ import annotations

import copy
import logging
import os
from collections import deque
from typing import Any

import numpy as np

from imitation_datasets.collect.local_backend import play_local
from imitation_datasets.collect.player import PlaySpec
from imitation_datasets.collect.ray_backend import play_ray
from imitation_datasets.collect.tally import Tally
from imitation_datasets.collect.worker import WorkerSpec
from imitation_datasets.core.acting import batch_actions
from imitation_datasets.core.rollout import ActionSpaceError, check_actions, make_env
from imitation_datasets.core.seeding import episode_seed

logger = logging.getLogger(__name__)

MAX_WORKERS_PER_CPU = 4
"""Local worker processes per CPU beyond which more workers only add memory and switching."""


def play_run(spec: WorkerSpec, episodes: int, workers: int, backend: str,
             ray_address: str | None, progress: bool, stats: dict[str, Any]) -> None:
    """Play every episode ``< episodes`` that is not staged yet.

    ``stats`` is filled with the :class:`Tally` statistics and ``"workers"`` (the number of
    workers used) when the play phase ends, also when it stops with an error; it is left as it
    is when nothing was left to play.

    Raises:
        CollectionError: an episode never reached the threshold, or workers hung or kept dying.
        KeyboardInterrupt: after saying where the staged episodes are.
    """
    staging = spec.staging
    done = (staging.marked_episodes(episodes) if spec.user_enjoy is not None
            else staging.staged_episodes(episodes))
    todo = deque(i for i in range(episodes) if i not in done)
    if not todo:
        return
    staging.dataset_dir.mkdir(parents=True, exist_ok=True)
    count = worker_count(workers, len(todo), backend)
    tally = Tally(episodes, len(done), spec.play.threshold, staging.path, progress)
    try:
        if backend == "ray":
            play_ray(spec, todo, count, tally, ray_address)
        else:
            play_local(spec, todo, count, tally)
    except KeyboardInterrupt:
        logger.warning("interrupted: %d episodes are staged in %s; rerun the same command to "
                       "resume", tally.accepted, staging.path)
        raise
    finally:
        stats.update(tally.close(), workers=count)


def worker_count(workers: int, todo: int, backend: str) -> int:
    """``workers``, but never more than the episodes to play or (locally) 4 per CPU."""
    count = min(workers, todo)
    cpus = cpu_count()
    if backend == "local" and count > MAX_WORKERS_PER_CPU * cpus:
        count = MAX_WORKERS_PER_CPU * cpus
        logger.warning("note: %d workers asked for, but only %d CPU(s) are available here; "
                       "using %d worker processes (the data do not change)", workers, cpus, count)
    return count


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_policy(play: PlaySpec) -> None:
    """Try the policy on a start state: actions that do not fit the space stop the run at once.

    Any other error is left to the rollout, which logs and retries it like any failed attempt.
    The check runs on a shallow copy, so the policy the workers get is not changed by it (an SB3
    policy keeps its recurrent state on the object).

    Raises:
        ActionSpaceError: the policy's actions do not fit the action space.
    """
    if play.policy is None or play.random_actions:
        return
    try:
        policy = copy.copy(play.policy)
        env = make_env(play.env_id, play.env_kwargs)
        try:
            obs, _ = env.reset(seed=episode_seed(play.dataset_seed, 0))
            if hasattr(policy, "load"):
                policy.load()
            actions = batch_actions(policy, np.stack([obs, obs]))
            check_actions(actions, env.action_space, 2, policy)
        finally:
            env.close()
    except ActionSpaceError:
        raise
    except Exception:  # noqa: BLE001 - the rollout reports these, with retries and a log
        return
