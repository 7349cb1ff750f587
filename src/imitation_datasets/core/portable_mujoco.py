"""Gymnasium's ``Reacher-v5`` and ``Pusher-v5`` with norms that do not depend on the BLAS.

Each method below is Gymnasium 1.x's own (``gymnasium/envs/mujoco/reacher_v5.py`` and
``pusher_v5.py``), with ``np.linalg.norm(v)`` replaced by :func:`portable_norm`; types are kept
(a float64 distance reward, so a float32 control cost still sums to a float64 reward).
:mod:`imitation_datasets.core.portable_envs` explains why and swaps them in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium.envs.mujoco.pusher_v5 import PusherEnv
from gymnasium.envs.mujoco.reacher_v5 import ReacherEnv


def portable_norm(vector: Any) -> np.float64:
    """Euclidean norm of ``vector`` as ``sqrt(x0*x0 + x1*x1 + ...)`` in float64, left to right.

    Every step is one IEEE 754 operation (Python floats), so the result is the same on any
    machine; it equals ``np.linalg.norm`` under OpenBLAS's Haswell and Sandybridge kernels.
    """
    total = 0.0
    for x in np.asarray(vector, dtype=np.float64).ravel().tolist():
        total += x * x
    return np.float64(math.sqrt(total))


class PortableReacherEnv(ReacherEnv):
    """``Reacher-v5`` whose distance reward and goal sampling use :func:`portable_norm`."""

    def _get_rew(self, action: np.ndarray) -> tuple[Any, dict[str, Any]]:
        vec = self.get_body_com("fingertip") - self.get_body_com("target")
        reward_dist = -portable_norm(vec) * self._reward_dist_weight
        reward_ctrl = -np.square(action).sum() * self._reward_control_weight
        return reward_dist + reward_ctrl, {"reward_dist": reward_dist, "reward_ctrl": reward_ctrl}

    def reset_model(self) -> np.ndarray:
        """Gymnasium's reset: a random arm pose, a goal drawn until it lies within 0.2."""
        qpos = self.np_random.uniform(low=-0.1, high=0.1, size=self.model.nq) + self.init_qpos
        while True:
            self.goal = self.np_random.uniform(low=-0.2, high=0.2, size=2)
            if portable_norm(self.goal) < 0.2:
                break
        qpos[-2:] = self.goal
        qvel = self.init_qvel + self.np_random.uniform(low=-0.005, high=0.005, size=self.model.nv)
        qvel[-2:] = 0
        self.set_state(qpos, qvel)
        return self._get_obs()


class PortablePusherEnv(PusherEnv):
    """``Pusher-v5`` whose rewards and object placement use :func:`portable_norm`."""

    def _get_rew(self, action: np.ndarray) -> tuple[Any, dict[str, Any]]:
        vec_1 = self.get_body_com("object") - self.get_body_com("tips_arm")
        vec_2 = self.get_body_com("object") - self.get_body_com("goal")
        reward_near = -portable_norm(vec_1) * self._reward_near_weight
        reward_dist = -portable_norm(vec_2) * self._reward_dist_weight
        reward_ctrl = -np.square(action).sum() * self._reward_control_weight
        reward = reward_dist + reward_ctrl + reward_near
        return reward, {"reward_dist": reward_dist, "reward_ctrl": reward_ctrl,
                        "reward_near": reward_near}

    def reset_model(self) -> np.ndarray:
        """Gymnasium's reset: the object drawn until it lies more than 0.17 from the goal."""
        qpos = self.init_qpos
        self.goal_pos = np.asarray([0, 0])
        while True:
            self.cylinder_pos = np.concatenate([
                self.np_random.uniform(low=-0.3, high=0, size=1),
                self.np_random.uniform(low=-0.2, high=0.2, size=1),
            ])
            if portable_norm(self.cylinder_pos - self.goal_pos) > 0.17:
                break
        qpos[-4:-2] = self.cylinder_pos
        qpos[-2:] = self.goal_pos
        qvel = self.init_qvel + self.np_random.uniform(low=-0.005, high=0.005, size=self.model.nv)
        qvel[-4:] = 0
        self.set_state(qpos, qvel)
        return self._get_obs()
