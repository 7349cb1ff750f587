"""IL-Datasets 1.0.0's ``imitation_datasets.utils``: the helpers a 1.0.0 script imports.

``Experiment(amount, path)`` and ``Context(experiments, index)`` (the per-episode log the
original's ``enjoy`` functions write to), ``CPUS`` (the original's CPU slots), the
``EnjoyFunction``/``CollateFunction`` types and ``GymWrapper`` (an environment seen through the
gym 0.21 or 0.26 API). The Controller gives a user ``enjoy`` its own context (with ``index``,
``seed``, ``attempt`` and ``add_log`` as well); these classes are for code that builds them
itself, e.g. to call an ``enjoy`` function directly. Deviations from 1.0.0 are listed in
``docs/compat.md``.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import random
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import ImitationDatasetsError

START_LINE = "#### Starting dataset creation ####\n"
"""First line of an experiment's log file (1.0.0's)."""


@dataclass
class Experiment:
    """How many episodes are left to record, and their logs (1.0.0's ``Experiment``).

    Creating one starts its log file at ``path`` afresh (1.0.0 did the same);
    :meth:`write_log` appends the logs gathered since.

    Args:
        amount: episodes still to record.
        path: the log file.
    """

    amount: int
    path: str = "./logs.txt"
    waiting: int = field(init=False, default=0)
    logs: defaultdict[int, list[str]] = field(init=False,
                                              default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        atomic_write_text(self.path, START_LINE)

    def _semaphore(self) -> asyncio.Lock:
        if self._lock is None:  # created inside the running loop (one per Experiment)
            self._lock = asyncio.Lock()
        return self._lock

    def is_done(self) -> bool:
        """Whether no episode is left to start."""
        return self.amount == 0

    async def start(self, amount: int = 1) -> tuple[bool, int]:
        """Reserve ``amount`` episodes: ``(True, left)``, or ``(False, -1)`` when none is left."""
        async with self._semaphore():
            if self.amount > 0:
                self.waiting += amount
                self.amount -= amount
                return True, self.amount
            return False, -1

    async def stop(self, status: bool, amount: int = 1) -> None:
        """Release ``amount`` reserved episodes; a failed one (``status`` false) is owed again."""
        async with self._semaphore():
            self.amount += 0 if status else amount
            self.waiting -= amount

    def add_log(self, experiment: int, log: Any) -> None:
        """Record ``log`` for episode ``experiment``."""
        self.logs[experiment].append(str(log))

    def write_log(self) -> None:
        """Append the recorded logs to :attr:`path` (1.0.0 wrote ``./logs.txt`` whatever path)."""
        path = Path(self.path)
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        for index, logs in self.logs.items():
            text += "".join(f"\nExperiment {index}: {log}" for log in logs) + "\n"
        atomic_write_text(path, text)


@dataclass
class Context:
    """What an ``enjoy`` function gets for one episode (1.0.0's ``Context``).

    ``seed``, ``attempt``, ``threshold`` and ``episode_return`` are the Controller's additions
    (the Controller's own context has them set): ``seed=None`` lets the built-in ``enjoy``
    functions reset with ``index``.
    """

    experiments: Experiment
    index: int
    seed: int | None = None
    attempt: int = 0
    threshold: float | None = None
    episode_return: float = math.nan

    def add_log(self, log: Any) -> None:
        """Record ``log`` for this episode in the experiment's logs."""
        self.experiments.add_log(self.index, log)


class CPUS:
    """CPU slots shared by a process (1.0.0's singleton ``CPUS(available_cpus)``).

    ``available_cpus`` is capped at ``cpu_count() - 1`` (at least 1). The first instance is
    kept while it is referenced (a weak reference, as in 1.0.0): ``CPUS(n)`` returns it
    whatever ``n``.
    """

    _instances: ClassVar[weakref.WeakValueDictionary[type, CPUS]] = (
        weakref.WeakValueDictionary())

    def __new__(cls, available_cpus: int | None = None) -> CPUS:
        """The live instance, or a new one with ``available_cpus`` slots."""
        instance = cls._instances.get(cls)
        if instance is None:
            instance = super().__new__(cls)
            wanted = multiprocessing.cpu_count() if available_cpus is None else available_cpus
            instance.available_cpus = max(1, min(int(wanted), multiprocessing.cpu_count() - 1))
            instance.cpus = defaultdict(bool)
            instance.cpu_semaphore = asyncio.BoundedSemaphore(instance.available_cpus)
            cls._instances[cls] = instance
        return instance

    available_cpus: int
    cpus: defaultdict[int, bool]
    cpu_semaphore: asyncio.BoundedSemaphore

    async def cpu_allock(self) -> int:
        """Wait for a free slot, take it and return its index (1.0.0's spelling)."""
        await self.cpu_semaphore.acquire()
        for index in range(self.available_cpus):
            if not self.cpus[index]:
                self.cpus[index] = True
                return index
        raise RuntimeError("CPUS: the semaphore allowed more slots than exist")  # unreachable

    def cpu_release(self, cpu_idx: int) -> None:
        """Free slot ``cpu_idx``; releasing a free slot does nothing."""
        if self.cpus.get(cpu_idx):
            self.cpus[cpu_idx] = False
            self.cpu_semaphore.release()

    @classmethod
    def reset(cls) -> None:
        """Forget the instance (the next ``CPUS(n)`` makes a new one)."""
        cls._instances.pop(cls, None)


EnjoyFunction = Callable[[Any, str, Context], "bool | tuple[bool, float]"]
"""``enjoy(expert, path, context)``: ``True``/``False`` or 1.0.0's ``(accepted, return)``."""
CollateFunction = Callable[[str, list[str]], Any]
"""``collate(path, data)``: merge the episode files ``data`` of folder ``path``."""


class WrapperException(ImitationDatasetsError):
    """The environment does not follow the API version asked of :class:`GymWrapper`."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class GymWrapper:
    """An environment seen through the gym 0.26 (``"newest"``) or 0.21 (``"older"``) API.

    ``reset`` returns the observation only (``"newest"`` drops the info dict); ``step`` returns
    ``(obs, reward, done, info)`` with ``done = terminated or truncated``. The wrapper resets the
    environment once when built, to check which API it follows (as 1.0.0 did).

    Args:
        environment: a Gymnasium (or gym) environment.
        version: ``"newest"`` (reset returns ``(obs, info)``) or ``"older"`` (reset returns obs).
        vectorized: pass ``reset``/``step`` results through unchanged.

    Raises:
        ValueError: ``version`` is neither.
        WrapperException: the environment does not follow ``version``'s API.
    """

    def __init__(self, environment: Any, version: str = "newest",
                 vectorized: bool = False) -> None:
        if version not in ("newest", "older"):
            raise ValueError(f"GymWrapper: version has to be 'newest' or 'older', got "
                             f"{version!r}")
        self.env = environment
        returned = environment.reset()
        newest_api = (isinstance(returned, tuple) and len(returned) == 2
                      and isinstance(returned[1], dict))
        if newest_api != (version == "newest"):
            raise WrapperException(
                f"GymWrapper: the environment's reset() follows the "
                f"{'newest' if newest_api else 'older'} API, not {version!r}")
        self.version = version
        self.vectorized = vectorized

    @property
    def action_space(self) -> Any:
        """The environment's action space."""
        return self.env.action_space

    @property
    def observation_space(self) -> Any:
        """The environment's observation space."""
        return self.env.observation_space

    @property
    def metadata(self) -> dict[str, Any]:
        """The environment's metadata."""
        return getattr(self.env, "metadata", {})

    @property
    def spec(self) -> Any:
        """The environment's spec (or ``None``)."""
        return getattr(self.env, "spec", None)

    @property
    def render_mode(self) -> str | None:
        """The environment's render mode."""
        return getattr(self.env, "render_mode", None)

    @property
    def np_random(self) -> Any:
        """The environment's random generator."""
        return getattr(self.env, "np_random", None)

    def set_seed(self, seed: int) -> None:
        """Seed PyTorch, NumPy's global generator and Python's ``random`` (1.0.0's behaviour)."""
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        """Reset (with ``seed`` when given); the observation only under ``"newest"``."""
        kwargs: dict[str, Any] = {}
        if seed is not None:
            kwargs["seed"] = seed
        if options is not None:
            kwargs["options"] = options
        state = self.env.reset(**kwargs)
        if self.vectorized or self.version == "older":
            return state
        return state[0]

    def step(self, action: Any) -> tuple[Any, ...]:
        """Step; ``(obs, reward, done, info)`` under ``"newest"``."""
        result = self.env.step(action)
        if self.vectorized or self.version == "older":
            return result
        state, reward, terminated, truncated, info = result
        return state, reward, terminated or truncated, info

    def render(self, mode: str = "rgb_array") -> Any:
        """The environment's render; an environment made without ``render_mode`` is an error."""
        if self.version == "older":
            return self.env.render(mode)
        frame = self.env.render()
        if frame is None and self.render_mode != "human":
            raise WrapperException("GymWrapper.render: the environment was made without a "
                                   "render_mode (gymnasium.make(id, render_mode='rgb_array'))")
        return frame

    def close(self) -> None:
        """Close the environment."""
        self.env.close()
