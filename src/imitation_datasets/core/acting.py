"""How anything that acts is called: the one adapter between policies and environments.

A policy here is any object with ``predict(obs, deterministic=True)`` (stable-baselines3's
signature) that returns the actions, or ``(actions, state)`` as SB3 does. Policies accept one
observation or a batch; :func:`one_or_batch` is the one rule that tells them apart, and
:func:`batch_actions` is the one way the rollout, evaluation and training code call a policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def batch_actions(policy: Any, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
    """``policy.predict(obs, deterministic)`` on a batch, as an array (SB3 tuples unwrapped)."""
    out = policy.predict(obs, deterministic=deterministic)
    if isinstance(out, tuple):
        out = out[0]
    return np.asarray(out)


def one_or_batch(fn: Callable[[np.ndarray], np.ndarray], obs: Any, obs_ndim: int = 1,
                 dtype: Any = None) -> np.ndarray:
    """Apply the batched ``fn`` to one observation or a batch of them.

    Args:
        fn: maps a batch ``(n, *obs_shape)`` to a batch of actions ``(n, ...)``.
        obs: one observation (``obs_ndim`` dimensions) or a batch (``obs_ndim + 1``).
        obs_ndim: number of dimensions of one observation (1 for vectors, 3 for images).
        dtype: dtype the observations are converted to first (``None``: as given).

    Returns:
        The actions of the batch, or the action of the one observation.
    """
    obs = np.asarray(obs, dtype=dtype)
    single = obs.ndim == obs_ndim
    actions = np.asarray(fn(obs[None] if single else obs))
    return actions[0] if single else actions
