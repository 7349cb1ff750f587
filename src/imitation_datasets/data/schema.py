"""The on-disk dataset format, in one place (documented in ``docs/format.md``).

A dataset is a directory::

    steps.parquet      one row per step: episode_index, step, obs, action, reward,
                       terminated, truncated, episode_start
    episodes.parquet   one row per episode: episode_index, seed, return, length, terminated,
                       truncated, final_obs, attempts, first_step
    metadata.json      provenance (see :func:`imitation_datasets.data.metadata.build_metadata`)

Observations (and Box actions) are stored as fixed-size lists of their flattened values; their
shape and dtype are in ``metadata.json`` (``env.observation_space``/``env.action_space``).
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

SCHEMA_VERSION = 1
FORMAT_NAME = "imitation_datasets"
STEPS_FILE = "steps.parquet"
EPISODES_FILE = "episodes.parquet"
METADATA_FILE = "metadata.json"
NPZ_FILE = "teacher.npz"

STEP_COLUMNS = ("episode_index", "step", "obs", "action", "reward", "terminated", "truncated",
                "episode_start")
EPISODE_COLUMNS = ("episode_index", "seed", "return", "length", "terminated", "truncated",
                   "final_obs", "attempts", "first_step")


class DatasetFormatError(ValueError):
    """A dataset file is missing, corrupt, or does not follow the format."""


def json_number(value: float) -> float | str:
    """JSON-safe float: infinities and NaN become strings ``"inf"``, ``"-inf"``, ``"nan"``."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def space_to_dict(space: gym.Space) -> dict[str, Any]:
    """Describe a Box or Discrete space as JSON."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": [json_number(v) for v in np.ravel(space.low)],
            "high": [json_number(v) for v in np.ravel(space.high)],
        }
    raise DatasetFormatError(f"unsupported space {space}; Box and Discrete are supported")


def space_from_dict(data: dict[str, Any]) -> gym.Space:
    """Inverse of :func:`space_to_dict`."""
    if data.get("type") == "Discrete":
        return gym.spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
    if data.get("type") == "Box":
        shape = tuple(data["shape"])
        dtype = np.dtype(data["dtype"])
        low = np.array([float(v) for v in data["low"]]).astype(dtype).reshape(shape)
        high = np.array([float(v) for v in data["high"]]).astype(dtype).reshape(shape)
        return gym.spaces.Box(low, high, shape=shape, dtype=dtype)
    raise DatasetFormatError(f"unknown space description {data!r}")


def infer_spaces(obs: np.ndarray, actions: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Space descriptions guessed from data when no environment is known.

    Observations become an unbounded Box of their shape and dtype; integer actions a Discrete
    space covering the values seen, float actions an unbounded Box.
    """
    def box(values: np.ndarray) -> dict[str, Any]:
        shape = list(values.shape[1:])
        size = int(np.prod(shape)) if shape else 1
        return {"type": "Box", "shape": shape, "dtype": str(values.dtype),
                "low": ["-inf"] * size, "high": ["inf"] * size}

    if np.issubdtype(actions.dtype, np.integer) and actions.ndim == 1:
        action = {"type": "Discrete", "n": int(actions.max()) + 1, "start": 0}
    else:
        action = box(actions)
    return box(obs), action
