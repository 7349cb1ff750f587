"""Make environments whose Gymnasium code gives CPU-dependent bits give the same bits everywhere.

Gymnasium's ``Reacher-v5`` and ``Pusher-v5`` compute their distance rewards (and the rejection
sampling of their goal or object position at reset) with ``np.linalg.norm``. For a float64 vector
that is ``sqrt(dot(x, x))``, and ``dot`` is a BLAS call whose kernel OpenBLAS picks from the CPU at
run time, and they round some sums differently: of 20 000 random 3-vectors, 2144 norms differ
between the AVX-512 (SkylakeX) and the Haswell kernel, 1181 between the SSE3 (Prescott) and the
Haswell one. Measured on an AVX-512 AMD EPYC: Reacher's rewards under its default kernel differ
from those under ``OPENBLAS_CORETYPE=Haswell``, Pusher's differ between all three, while
observations and actions are identical (``python benchmarks/blas_rewards.py`` prints the
comparison). A Reacher or Pusher dataset's bytes thus depended on the machine that collected it.

:func:`make_portable` swaps such an environment's class for a subclass
(:mod:`imitation_datasets.core.portable_mujoco`) that computes every norm as ``sqrt(x0*x0 + x1*x1 +
...)``, left to right, each operation rounded to float64 as IEEE 754 requires, so the same on any
machine. Those are the bits of OpenBLAS's Haswell and Sandybridge kernels (AVX2, AVX; none of the
20 000 vectors differs), the kernels of the machines that made the shipped golden data, so datasets
collected before on such machines keep their fingerprints. Only exactly these Gymnasium classes are
swapped (never a user's subclass); :func:`~imitation_datasets.core.rollout.make_env`, which every
part of the library uses, calls it.
"""

from __future__ import annotations

from typing import TypeVar

import gymnasium as gym

PORTABLE_CLASSES = {
    "gymnasium.envs.mujoco.reacher_v5.ReacherEnv": "PortableReacherEnv",
    "gymnasium.envs.mujoco.pusher_v5.PusherEnv": "PortablePusherEnv",
}
"""Gymnasium class (``module.QualName``) -> its portable subclass in ``portable_mujoco``."""

EnvT = TypeVar("EnvT", bound=gym.Env)


def make_portable(env: EnvT) -> EnvT:
    """Give ``env``'s innermost environment its portable class, if it has one; returns ``env``.

    The portable classes override methods only (no new state), so swapping the class of an
    environment already made changes nothing but the bits of those norms.
    """
    inner = env.unwrapped
    name = f"{type(inner).__module__}.{type(inner).__qualname__}"
    portable = PORTABLE_CLASSES.get(name)
    if portable is not None:
        # imported here: the module imports MuJoCo, which other environments do not need
        from imitation_datasets.core import portable_mujoco

        inner.__class__ = getattr(portable_mujoco, portable)
    return env
