"""Dataset episodes with retries: the part of a worker that every backend shares.

An :class:`EpisodePlayer` owns one :class:`EpisodeRunner`. It plays episode indices handed to it,
retries a rejected or failed attempt with the next seed of that episode's own sequence, and
yields one :class:`Result` per index: ``done`` with the accepted episode, or ``failed`` once
``max_attempts`` attempts fell short. It knows nothing about processes, queues or files.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from imitation_datasets.collect.noise import NoiseSpec, NoisyRunner
from imitation_datasets.collect.pixels import PixelRunner, PixelSpec
from imitation_datasets.core.episode import Episode
from imitation_datasets.core.rollout import EpisodeRunner, make_env
from imitation_datasets.core.seeding import episode_seed


@dataclass
class PlaySpec:
    """What to play: the environment, the policy and the acceptance rule."""

    env_id: str
    env_kwargs: dict[str, Any]
    policy: Any
    random_actions: bool
    dataset_seed: int
    threshold: float
    max_attempts: int
    n_envs: int = 16
    pixels: PixelSpec | None = None
    """Record rendered frames of this size instead of the state observations."""
    noise: NoiseSpec | None = None
    """Perturb the expert's actions (action noise, random episodes); ``None``: play them."""


@dataclass
class Result:
    """Outcome of one episode index."""

    kind: str
    """``"done"`` (accepted; ``episode`` is set) or ``"failed"`` (attempts exhausted)."""
    summary: dict[str, Any]
    episode: Episode | None = None
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    """``(attempt, seed, traceback)`` of attempts that raised."""


def summary(index: int, attempt: int, seed: int, episode_return: float, length: int,
            history: list[float]) -> dict[str, Any]:
    """The JSON-ready record of an index sent to the controller (NaN in history = error)."""
    return {
        "index": index,
        "attempts": attempt + 1,
        "seed": seed,
        "return": episode_return,
        "length": length,
        "rejected_returns": [r for r in history if not math.isnan(r)],
        "errors": sum(1 for r in history if math.isnan(r)),
    }


class EpisodePlayer:
    """Plays dataset episodes on ``spec.n_envs`` environments with retries."""

    def __init__(self, spec: PlaySpec) -> None:
        self.spec = spec
        if spec.policy is not None and hasattr(spec.policy, "load"):
            spec.policy.load()
        runner = EpisodeRunner if spec.noise is None else partial(NoisyRunner, noise=spec.noise)
        self.runner = runner(
            partial(make_env, spec.env_id, spec.env_kwargs),
            spec.policy,
            n_envs=spec.n_envs,
            random_actions=spec.random_actions,
        ) if spec.pixels is None else PixelRunner(
            spec.env_id, spec.env_kwargs, spec.pixels, spec.policy, n_envs=spec.n_envs,
            random_actions=spec.random_actions)

    def close(self) -> None:
        """Close the environments."""
        self.runner.close()

    def play(self, next_index: Callable[[], int | None]) -> Iterator[Result]:
        """Play indices from ``next_index`` (``None``: nothing more for now) until all are done."""
        spec = self.spec
        pending: deque[tuple[int, int]] = deque()
        history: dict[int, list[float]] = {}
        errors: dict[int, list[tuple[int, int, str]]] = {}

        def next_job() -> tuple[tuple[int, int], int] | None:
            if not pending:
                index = next_index()
                if index is None:
                    return None
                pending.append((index, 0))
            index, attempt = pending.popleft()
            return (index, attempt), episode_seed(spec.dataset_seed, index, attempt)

        while True:
            for outcome in self.runner.run(next_job):
                index, attempt = outcome.key
                past = history.setdefault(index, [])
                if outcome.episode is None:
                    errors.setdefault(index, []).append((attempt, outcome.seed,
                                                         outcome.error or ""))
                    past.append(math.nan)
                elif outcome.episode_return >= spec.threshold:
                    episode = outcome.episode
                    episode.index, episode.attempt = index, attempt
                    episode.rejected_returns = tuple(history.pop(index))
                    yield Result("done", summary(index, attempt, outcome.seed,
                                                 episode.episode_return, episode.length,
                                                 list(episode.rejected_returns)),
                                 episode, errors.pop(index, []))
                    continue
                else:
                    past.append(outcome.episode_return)
                if attempt + 1 < spec.max_attempts:
                    pending.appendleft((index, attempt + 1))
                else:
                    yield Result("failed", summary(index, attempt, outcome.seed, math.nan, 0,
                                                   history.pop(index)),
                                 None, errors.pop(index, []))
            # the runner stops refilling once next_job returns None; retries queued after that
            # moment are still pending
            if not pending:
                return
