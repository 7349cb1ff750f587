"""A toy environment whose ``step`` never returns after ``IL_TEST_HANG_AFTER`` steps.

Steps are counted per process (the collection may make a fresh env for every episode), and
``HangingToy-v0`` never hangs in the process that imported this module (the test itself).
Importing this module registers ``HangingToy-v0`` and ``StuckToy-v0`` (always hangs after 25 steps,
for Ray actors, which do not see the test's environment variables). Without the variable
``HangingToy-v0`` never hangs, so
a rerun after "fixing the environment" (unsetting it) resumes the same run: the variable is not
part of the run's fingerprint. Episodes last 10 steps; observations depend only on the seed.
"""

from __future__ import annotations

import os
import time
from typing import Any

import gymnasium as gym
import numpy as np

ENV_ID = "HangingToy-v0"
STUCK_ID = "StuckToy-v0"
IMPORTED_BY = os.getpid()
_STEPS = {"pid": 0, "count": 0}


def _process_steps() -> int:
    """Steps taken in this process so far, this one included."""
    if _STEPS["pid"] != os.getpid():
        _STEPS.update(pid=os.getpid(), count=0)
    _STEPS["count"] += 1
    return _STEPS["count"]
HANG_AFTER = "IL_TEST_HANG_AFTER"
STEP_SECONDS = "IL_TEST_STEP_SECONDS"
"""Seconds each step sleeps outside the importing process (a slow but live env)."""


class HangingEnv(gym.Env):
    """Ten-step episodes; step ``hang_after + 1`` of this process sleeps forever.

    ``hang_after=None`` reads it from the ``HANG_AFTER`` variable, outside the importing process
    only (never hangs when unset).
    """

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, hang_after: int | None = None) -> None:
        self.hang_after = hang_after
        self.t = 0
        self.state = np.zeros(2, np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        self.state = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return self.state, {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        limit = self.hang_after
        if os.getpid() != IMPORTED_BY:
            limit = os.environ.get(HANG_AFTER) if limit is None else limit
            time.sleep(float(os.environ.get(STEP_SECONDS, 0)))
        if limit is not None and _process_steps() > int(limit):
            while True:
                time.sleep(60)
        self.t += 1
        self.state = np.clip(self.state + (0.1 if action else -0.1), -1, 1).astype(np.float32)
        return self.state, 1.0, self.t >= 10, False, {}


def policy(obs: np.ndarray) -> np.ndarray:
    """A deterministic batched policy for the toy env."""
    return (obs[:, 0] < 0).astype(np.int64)


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=HangingEnv)
    gym.register(STUCK_ID, entry_point=HangingEnv, kwargs={"hang_after": 25})
