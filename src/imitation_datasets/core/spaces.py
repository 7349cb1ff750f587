"""Which Gymnasium spaces a dataset can hold, and how a non-Box observation is stored.

Every dataset row stores its observation as one flat numeric vector (``steps.parquet``'s ``obs``
column), so observations of any supported space are stored as a ``Box``:

==========================  =================================================================
environment's space         stored observation (a ``Box``)
==========================  =================================================================
``Box`` (any shape)         itself (shape and dtype kept)
``Discrete(n, start)``      ``(1,)`` int64 in ``[start, start + n - 1]`` (the value, not one-hot)
``MultiDiscrete(nvec)``     ``nvec.shape`` int64 in ``[start, start + nvec - 1]``
``MultiBinary(n)``          ``n`` (its shape) int8 in ``[0, 1]``
``Dict`` / ``Tuple``        the leaves above, flattened and concatenated in the space's order
                            (a ``Dict``'s sorted keys), as the common dtype of the leaves
==========================  =================================================================

:func:`make_env` wraps such an environment in :class:`StorableObservation`, so collection,
policies and the loaders see that ``Box``; the metadata keeps the environment's own space as
``env.observation_structure`` (:func:`space_structure`), and :func:`unflatten_observation`
turns a stored row back into the environment's observation (a dict, tuple or integer).

Actions may be ``Discrete``, ``Box`` (any shape), ``MultiDiscrete`` or ``MultiBinary`` (stored as
integer vectors). Anything else (``Text``, ``Graph``, ``Sequence``, ``OneOf``, a ``Dict`` action)
is refused in one line naming the space (:class:`UnsupportedSpaceError`), before any worker
starts.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.json_values import json_number

LEAVES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)
SUPPORTED_OBSERVATIONS = "Box, Discrete, MultiDiscrete, MultiBinary, and Dict/Tuple of them"
SUPPORTED_ACTIONS = "Discrete, Box, MultiDiscrete and MultiBinary"


class UnsupportedSpaceError(OneLineError, TypeError):
    """An environment's observation or action space that a dataset cannot hold."""


def _leaves(space: gym.Space, where: str) -> list[gym.Space]:
    """The leaf spaces of ``space`` in storage order; refuses any other kind of space."""
    if isinstance(space, LEAVES):
        return [space]
    if isinstance(space, gym.spaces.Dict):
        return [leaf for key in space.spaces for leaf in _leaves(space.spaces[key], where)]
    if isinstance(space, gym.spaces.Tuple):
        return [leaf for part in space.spaces for leaf in _leaves(part, where)]
    raise UnsupportedSpaceError(f"{where} {space} is not supported; supported: "
                                f"{SUPPORTED_OBSERVATIONS}")


def _leaf_box(space: gym.Space) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Flat ``(low, high, dtype)`` of one leaf as stored."""
    if isinstance(space, gym.spaces.Box):
        return space.low.reshape(-1), space.high.reshape(-1), space.dtype
    if isinstance(space, gym.spaces.Discrete):
        low = np.array([int(space.start)], dtype=np.int64)
        return low, low + int(space.n) - 1, np.dtype(np.int64)
    if isinstance(space, gym.spaces.MultiDiscrete):
        low = np.broadcast_to(np.asarray(space.start, dtype=np.int64), space.nvec.shape)
        return low.reshape(-1), (low + space.nvec.astype(np.int64) - 1).reshape(-1), \
            np.dtype(np.int64)
    assert isinstance(space, gym.spaces.MultiBinary)
    size = int(np.prod(space.shape))
    return np.zeros(size, np.int8), np.ones(size, np.int8), np.dtype(np.int8)


def observation_box(space: gym.Space, where: str = "observation space") -> gym.spaces.Box:
    """The ``Box`` observations of ``space`` are stored as (module docstring)."""
    if isinstance(space, gym.spaces.Box):
        return space
    parts = [_leaf_box(leaf) for leaf in _leaves(space, where)]
    dtype = np.result_type(*(dtype for _, _, dtype in parts))
    if isinstance(space, gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        shape: tuple[int, ...] = tuple(space.shape)
    else:
        shape = (sum(len(low) for low, _, _ in parts),)
    low = np.concatenate([p[0] for p in parts]).astype(dtype).reshape(shape)
    high = np.concatenate([p[1] for p in parts]).astype(dtype).reshape(shape)
    return gym.spaces.Box(low, high, shape=shape, dtype=dtype)


def _flat(space: gym.Space, value: Any) -> list[np.ndarray]:
    if isinstance(space, gym.spaces.Dict):
        return [a for key in space.spaces for a in _flat(space.spaces[key], value[key])]
    if isinstance(space, gym.spaces.Tuple):
        return [a for part, v in zip(space.spaces, value, strict=True) for a in _flat(part, v)]
    return [np.asarray(value).reshape(-1)]


def flatten_observation(space: gym.Space, box: gym.spaces.Box, value: Any) -> np.ndarray:
    """``value`` of ``space`` as a row of its stored ``box``."""
    return np.concatenate(_flat(space, value)).astype(box.dtype, copy=False).reshape(box.shape)


def unflatten_observation(space: gym.Space, row: Any) -> Any:
    """A stored observation row back in ``space`` (an int, array, dict or tuple)."""
    values = np.asarray(row).reshape(-1)
    size = int(np.prod(observation_box(space).shape))
    if size != len(values):
        raise ValueError(f"a row of {len(values)} values does not fit {space} ({size} values)")
    return _unflatten(space, values, 0)[0]


def _unflatten(space: gym.Space, values: np.ndarray, at: int) -> tuple[Any, int]:
    if isinstance(space, gym.spaces.Dict):
        out = {}
        for key, part in space.spaces.items():
            out[key], at = _unflatten(part, values, at)
        return out, at
    if isinstance(space, gym.spaces.Tuple):
        items = []
        for part in space.spaces:
            item, at = _unflatten(part, values, at)
            items.append(item)
        return tuple(items), at
    if isinstance(space, gym.spaces.Discrete):
        return np.int64(values[at]), at + 1
    shape = tuple(space.shape or ())
    size = int(np.prod(shape))
    return values[at:at + size].astype(space.dtype).reshape(shape), at + size


def check_action_space(space: gym.Space, where: str = "action space") -> None:
    """Refuse an action space a dataset cannot hold (one line naming it)."""
    if not isinstance(space, LEAVES):
        raise UnsupportedSpaceError(f"{where} {space} is not supported; supported: "
                                    f"{SUPPORTED_ACTIONS}")


class StorableObservation(gym.ObservationWrapper):
    """Observations of a non-``Box`` space as rows of their stored ``Box`` (module docstring).

    ``original_observation_space`` is the environment's own space.
    """

    def __init__(self, env: gym.Env, where: str = "observation space") -> None:
        super().__init__(env)
        self.original_observation_space = env.observation_space
        self.observation_space = observation_box(env.observation_space, where)

    def observation(self, observation: Any) -> np.ndarray:
        """The stored row of ``observation``."""
        assert isinstance(self.observation_space, gym.spaces.Box)
        return flatten_observation(self.original_observation_space, self.observation_space,
                                   observation)


def storable(env: gym.Env, env_id: str = "") -> gym.Env:
    """``env`` itself when its spaces are stored as they are, else wrapped; refuses the rest."""
    name = f"{env_id} " if env_id else ""
    check_action_space(env.action_space, f"{name}action space")
    if isinstance(env.observation_space, gym.spaces.Box):
        return env
    return StorableObservation(env, f"{name}observation space")


def space_structure(space: gym.Space) -> dict[str, Any]:
    """JSON description of any supported space, nested for ``Dict``/``Tuple``."""
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_structure(v) for k, v in space.spaces.items()}}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_structure(v) for v in space.spaces]}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist(),
                "start": np.broadcast_to(space.start, space.nvec.shape).tolist()}
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": "MultiBinary", "n": list(space.shape)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": [json_number(v) for v in np.ravel(space.low)],
                "high": [json_number(v) for v in np.ravel(space.high)]}
    raise UnsupportedSpaceError(f"{space} is not supported; supported: {SUPPORTED_OBSERVATIONS}")


__all__ = ["StorableObservation", "UnsupportedSpaceError", "check_action_space",
           "flatten_observation", "observation_box", "space_structure", "storable",
           "unflatten_observation"]
