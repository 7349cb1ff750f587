"""The curated expert of a dataset, queried at the dataset's own states (action divergence).

Belkhale, Cui & Sadigh (2023) define a dataset's *action divergence* as the distance between
the actions it records and the expert's action at the same states. The package ships its
experts, so the divergence is computed exactly: the expert is asked at every sampled state.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.acting import batch_actions
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.experts.curated import CuratedExpert, load_zoo
from imitation_datasets.experts.registry import Experts


class NoExpertError(OneLineError, LookupError):
    """No curated expert fits a dataset (another environment, or an unknown name)."""


def expert_for(metadata: dict[str, Any] | None, name: str | None = None) -> CuratedExpert:
    """The curated expert to compare a dataset with.

    ``name`` (a registry name) when given; else the expert the metadata names when it is a
    curated one; else the curated expert of the dataset's environment (random or noisy data).

    Raises:
        NoExpertError: none fits; the message says why.
    """
    env_id = ((metadata or {}).get("env") or {}).get("id")
    if name is not None:
        expert = Experts.get_expert(name)
        if not isinstance(expert, CuratedExpert):
            raise NoExpertError(f"{name}: not a curated expert")
        if env_id is not None and expert.env_id != env_id:
            raise NoExpertError(f"expert {name} plays {expert.env_id}, the dataset {env_id}")
        return expert
    described = (metadata or {}).get("expert") or {}
    zoo = {e.key: e for e in load_zoo()}
    if described.get("kind") == "curated" and described.get("id") in zoo:
        return zoo[described["id"]]
    for expert in zoo.values():
        if env_id is not None and expert.env_id == env_id:
            return expert
    raise NoExpertError(f"no curated expert for environment {env_id or '(unknown)'}")


def action_scale(space: gym.Space | None, actions: np.ndarray) -> np.ndarray:
    """Half the range of each Box action dimension (its standard deviation where unbounded)."""
    if isinstance(space, gym.spaces.Box) and np.all(np.isfinite(space.low)) \
            and np.all(np.isfinite(space.high)):
        half = (np.asarray(space.high, float) - np.asarray(space.low, float)).reshape(-1) / 2
        return np.where(half > 0, half, 1.0)
    spread = actions.std(axis=0)
    return np.where(spread > 0, spread, 1.0)


def action_divergence(expert: CuratedExpert, states: np.ndarray, actions: np.ndarray,
                      obs_shape: tuple[int, ...], space: gym.Space | None
                      ) -> tuple[dict[str, Any], np.ndarray]:
    """How far recorded actions are from the expert's at the same states.

    Discrete: the disagreement rate ``P(a != pi_E(s))``. Box: the mean squared distance
    ``E ||(a - pi_E(s)) / scale||^2 / A`` with each dimension scaled by half its range (so
    ``[-1, 1]`` actions are unchanged), and the mean absolute distance in the same units.

    Returns:
        ``(summary, per-step divergence)``: the JSON-ready summary, and each state's
        disagreement (0/1) or scaled squared distance (averaged over action dimensions).
    """
    obs = states.reshape(len(states), *obs_shape).astype(np.float32)
    predicted = batch_actions(expert, obs)
    base = {"expert": expert.key, "expert_weights_sha256": expert.card.weights_sha256,
            "states": len(states)}
    if actions.ndim == 1:
        disagree = (predicted.reshape(len(states)) != actions).astype(np.float64)
        return ({**base, "kind": "disagreement_rate",
                 "action_divergence": float(disagree.mean())}, disagree)
    scale = action_scale(space, actions)
    gap = (actions - predicted.reshape(len(states), -1).astype(np.float64)) / scale
    per_step = np.mean(gap ** 2, axis=1)
    return ({**base, "kind": "scaled_mse", "action_divergence": float(per_step.mean()),
             "mean_abs_difference": float(np.mean(np.abs(gap)))}, per_step)
