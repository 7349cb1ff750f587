"""Reacher-v5 and Pusher-v5 give the same bits on any machine, and Gymnasium's values otherwise.

Gymnasium computes their rewards with ``np.linalg.norm``, a BLAS call whose last bit depends on
the OpenBLAS kernel the CPU selects (``core/portable_envs.py``); ``make_env`` swaps in classes
with a portable norm.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("mujoco")

from gymnasium.envs.mujoco.reacher_v5 import ReacherEnv  # noqa: E402

from imitation_datasets.core.portable_envs import make_portable  # noqa: E402
from imitation_datasets.core.portable_mujoco import portable_norm  # noqa: E402
from imitation_datasets.core.rollout import make_env  # noqa: E402

ENV_IDS = ("Reacher-v5", "Pusher-v5")

ROLLOUT_DIGEST = """
import hashlib, sys
import numpy as np
from imitation_datasets.core.rollout import make_env
for env_id in sys.argv[1:]:
    env = make_env(env_id)
    actions = np.random.default_rng(7)
    digest = hashlib.sha256()
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        digest.update(obs.tobytes())
        for _ in range(40):
            action = actions.uniform(-1, 1, env.action_space.shape).astype(np.float32)
            obs, reward, *_ = env.step(action)
            digest.update(obs.tobytes() + np.float64(reward).tobytes())
    print(env_id, digest.hexdigest())
"""
"""Prints a digest of 8 seeded episodes' observations and rewards for each env id given."""


def rollout_digests(**env: str) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", ROLLOUT_DIGEST, *ENV_IDS],
                         env=dict(os.environ, **env), capture_output=True, text=True,
                         timeout=300, check=True)
    return dict(line.split() for line in out.stdout.splitlines())


def test_rewards_do_not_depend_on_the_openblas_kernel():
    """SSE-era kernels (any x86-64) give the bytes this CPU's own kernel gives.

    On an AVX-512 CPU, Gymnasium's own Reacher/Pusher rewards differ between the two kernels."""
    assert rollout_digests(OPENBLAS_CORETYPE="Prescott") == rollout_digests()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_portable_env_is_gymnasiums_up_to_the_last_bit_of_a_norm(env_id):
    ours, theirs = make_env(env_id), gym.make(env_id, disable_env_checker=True)
    assert type(ours.unwrapped).__name__ == "Portable" + type(theirs.unwrapped).__name__
    assert isinstance(ours.unwrapped, type(theirs.unwrapped))
    actions = np.random.default_rng(3)
    for seed in range(3):
        obs, _ = ours.reset(seed=seed)
        np.testing.assert_array_equal(obs, theirs.reset(seed=seed)[0])
        for _ in range(50):
            action = actions.uniform(-1, 1, ours.action_space.shape).astype(np.float32)
            obs, reward, terminated, truncated, info = ours.step(action)
            their_obs, their_reward, *their_ends, their_info = theirs.step(action)
            np.testing.assert_array_equal(obs, their_obs)
            assert [terminated, truncated] == their_ends
            assert type(reward) is type(their_reward) and reward == pytest.approx(their_reward,
                                                                                   rel=1e-15)
            assert info.keys() == their_info.keys()
            for key, value in info.items():
                assert type(value) is type(their_info[key])
                assert value == pytest.approx(their_info[key], rel=1e-15, abs=1e-300)


def test_portable_norm_sums_squares_left_to_right_in_float64():
    vectors = np.random.default_rng(0).normal(size=(2000, 3))
    for vector in vectors:
        x, y, z = (float(v) for v in vector)
        assert portable_norm(vector) == np.float64(math.sqrt(x * x + y * y + z * z))
        np.testing.assert_array_max_ulp(portable_norm(vector), np.linalg.norm(vector), maxulp=1)
    assert type(portable_norm([3.0, 4.0])) is np.float64 and portable_norm([3.0, 4.0]) == 5.0


def test_only_gymnasiums_own_classes_are_swapped():
    class MyReacher(ReacherEnv):
        pass

    mine = MyReacher()
    assert type(make_portable(mine).unwrapped) is MyReacher
    cartpole = gym.make("CartPole-v1")
    assert type(make_portable(cartpole).unwrapped) is type(cartpole.unwrapped)
