"""A toy environment for each observation and action space a dataset can hold (and some it
cannot). Importing this module registers ``SpacesToy-<obs>-<act>-v0`` for every pair of
:data:`OBSERVATIONS` and :data:`ACTIONS`; episodes last 5 to 9 steps, set by the reset seed."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

OBSERVATIONS = {
    "box2d": lambda: spaces.Box(-1.0, 1.0, shape=(2, 3), dtype=np.float32),
    "discrete": lambda: spaces.Discrete(7, start=-2),
    "multidiscrete": lambda: spaces.MultiDiscrete([3, 5, 2]),
    "multibinary": lambda: spaces.MultiBinary(4),
    "dict": lambda: spaces.Dict({"pos": spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32),
                                 "door": spaces.Discrete(3),
                                 "inner": spaces.Tuple((spaces.MultiBinary(2),
                                                        spaces.Discrete(4)))}),
    "tuple": lambda: spaces.Tuple((spaces.Discrete(32), spaces.Discrete(11), spaces.Discrete(2))),
    "text": lambda: spaces.Text(8),
}
ACTIONS = {
    "discrete": lambda: spaces.Discrete(3),
    "box": lambda: spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32),
    "multidiscrete": lambda: spaces.MultiDiscrete([2, 3]),
    "multibinary": lambda: spaces.MultiBinary(3),
    "tuple": lambda: spaces.Tuple((spaces.Discrete(2), spaces.Discrete(2))),
}


def env_id(observation: str, action: str) -> str:
    return f"SpacesToy-{observation}-{action}-v0"


class SpacesToy(gym.Env):
    """Observations sampled from the space (seeded by reset), reward 1 per step."""

    def __init__(self, observation: str = "discrete", action: str = "discrete") -> None:
        self.observation_space = OBSERVATIONS[observation]()
        self.action_space = ACTIONS[action]()
        self.length, self.t = 5, 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self.length, self.t = 5 + int(self.np_random.integers(5)), 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        assert self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)
                                          if not isinstance(self.action_space, spaces.Tuple)
                                          else action)
        self.t += 1
        return self.observation_space.sample(), 1.0, self.t >= self.length, False, {}


for _obs in OBSERVATIONS:
    for _act in ACTIONS:
        if env_id(_obs, _act) not in gym.registry:
            gym.register(env_id(_obs, _act), entry_point=SpacesToy, max_episode_steps=50,
                         kwargs={"observation": _obs, "action": _act})
