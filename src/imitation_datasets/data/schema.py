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

import json
import math
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.json_values import is_int
from imitation_datasets.core.json_values import json_number as json_number  # re-exported
from imitation_datasets.core.spaces import (
    SUPPORTED_ACTIONS,
    observation_box,
    space_structure,
)

SCHEMA_VERSION = 1
FORMAT_NAME = "imitation_datasets"
STEPS_FILE = "steps.parquet"
EPISODES_FILE = "episodes.parquet"
METADATA_FILE = "metadata.json"
NPZ_FILE = "teacher.npz"

# ---------------------------------------------------------------------------- column names
# One vocabulary: the original IL-Datasets names (plural), used by DatasetArrays' fields, the
# teacher.npz keys, the hub layout and ``datasets`` tables.
ORIGINAL_COLUMNS = ("obs", "actions", "rewards", "episode_starts")
"""The columns (npz keys) every original-layout source has."""
OPTIONAL_COLUMNS = ("terminated", "truncated", "final_obs", "seeds", "attempts")
"""Ours, in any original-layout source (older readers ignore them)."""
STEPS_FILE_NAMES = {"actions": "action", "rewards": "reward", "episode_starts": "episode_start"}
"""How ``steps.parquet`` (schema version 1) spells three of them, in the singular.

Frozen by schema version 1: renaming them would change the bytes of every dataset ever written.
Readers accept either spelling wherever the original names are expected.
"""


def space_to_dict(space: gym.Space, *, compact: bool = False) -> dict[str, Any]:
    """Describe the stored space as JSON (a Box or Discrete space as it is).

    A MultiDiscrete or MultiBinary space is described as the integer Box its values are stored
    in (``core/spaces.py``). With ``compact``, a Box whose ``low`` (or ``high``) is the same
    number everywhere writes that number instead of a list (an 84x84x3 image space: 40 bytes
    instead of 250 KB); :func:`space_from_dict` reads both forms. Off by default: the
    metadata of datasets written before it keeps its bytes.

    Raises:
        DatasetFormatError: any other space (one line naming it).
    """
    if isinstance(space, gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        space = observation_box(space)
    if isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
        described = space_structure(space)
        if compact and isinstance(space, gym.spaces.Box):
            for key, bound in (("low", space.low), ("high", space.high)):
                flat = np.ravel(bound)
                if flat.size and (flat == flat[0]).all():
                    described[key] = int(flat[0]) if flat.dtype.kind in "biu" else \
                        json_number(flat[0])
        return described
    raise DatasetFormatError(f"unsupported space {space}; supported: {SUPPORTED_ACTIONS}, "
                             "and Dict/Tuple observations")


MAX_SPACE_SIZE = 1 << 28
"""Most values one observation or action may hold (a 16k x 16k image); larger is refused."""


def space_from_dict(data: Any, origin: str = "space") -> gym.Space:
    """Inverse of :func:`space_to_dict`, refusing malformed descriptions.

    Args:
        data: the description (from ``metadata.json``).
        origin: names the file and field in error messages.

    Raises:
        DatasetFormatError: not a Box/Discrete description, or a field of the wrong type or size.
    """
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{origin}: a space description must be an object, "
                                 f"got {type(data).__name__}")
    kind = data.get("type")
    if kind == "Discrete":
        n: Any = data.get("n")
        start: Any = data.get("start", 0)
        if not is_int(n) or n < 1 or not is_int(start):
            raise DatasetFormatError(f"{origin}: Discrete needs an integer n >= 1 and an integer "
                                     f"start, got n={n!r}, start={start!r}")
        return gym.spaces.Discrete(n, start=start)
    if kind == "Box":
        return _box_from_dict(data, origin)
    raise DatasetFormatError(f"{origin}: unknown space type {kind!r}; expected Box or Discrete")


def _box_from_dict(data: dict[str, Any], origin: str) -> gym.spaces.Box:
    shape = data.get("shape")
    if not isinstance(shape, list) or not all(is_int(v) and v >= 0 for v in shape):
        raise DatasetFormatError(f"{origin}: Box shape must be a list of non-negative integers, "
                                 f"got {shape!r}")
    size = math.prod(shape)
    if size > MAX_SPACE_SIZE:
        raise DatasetFormatError(f"{origin}: Box shape {shape} holds {size} values, more than "
                                 f"{MAX_SPACE_SIZE}; refused")
    dtype = numeric_dtype(data.get("dtype"), f"{origin} dtype")
    bounds = []
    for key in ("low", "high"):
        values = data.get(key)
        if isinstance(values, int | float | str) and not isinstance(values, bool):
            values = [values]  # one bound for every value (``space_to_dict(compact=True)``)
        elif not isinstance(values, list) or len(values) != size:
            raise DatasetFormatError(f"{origin}: Box {key} must be a number or a list of "
                                     f"{size} numbers")
        try:
            bound = np.array([float(v) for v in values]).astype(dtype)
            bounds.append(bound.reshape(shape) if bound.size == size else
                          np.full(shape, bound[0], dtype))
        except (TypeError, ValueError, OverflowError):
            raise DatasetFormatError(f"{origin}: Box {key} holds a value that is not a number") \
                from None
    return gym.spaces.Box(bounds[0], bounds[1], shape=tuple(shape), dtype=dtype)


MAX_NESTING = 16
"""Deepest Dict/Tuple nesting a structure description may have."""


def structure_from_dict(data: Any, origin: str = "structure", depth: int = 0) -> gym.Space:
    """Inverse of ``core.spaces.space_structure`` (Dict, Tuple, MultiDiscrete, MultiBinary too).

    Raises:
        DatasetFormatError: a malformed description, or one nested deeper than 16 levels.
    """
    kind = data.get("type") if isinstance(data, dict) else None
    if depth > MAX_NESTING:
        raise DatasetFormatError(f"{origin}: spaces nested deeper than {MAX_NESTING} levels")
    try:
        if kind == "Dict" and isinstance(data.get("spaces"), dict):
            return gym.spaces.Dict({str(k): structure_from_dict(v, f"{origin}.{k}", depth + 1)
                                    for k, v in data["spaces"].items()})
        if kind == "Tuple" and isinstance(data.get("spaces"), list):
            return gym.spaces.Tuple([structure_from_dict(v, f"{origin}[{i}]", depth + 1)
                                     for i, v in enumerate(data["spaces"])])
        if kind == "MultiDiscrete":
            nvec, start = (np.asarray(data[k], dtype=np.int64) for k in ("nvec", "start"))
            if nvec.size > MAX_SPACE_SIZE:
                raise ValueError("too large")
            return gym.spaces.MultiDiscrete(nvec, start=start)
        if kind == "MultiBinary" and all(is_int(n) for n in data.get("n", [None])):
            if math.prod(data["n"]) > MAX_SPACE_SIZE:
                raise ValueError("too large")
            n = data["n"]
            return gym.spaces.MultiBinary(n[0] if len(n) == 1 else list(n))
    except (KeyError, TypeError, ValueError, OverflowError, AssertionError) as exc:
        raise DatasetFormatError(f"{origin}: malformed {str(kind)[:20]} description "
                                 f"({str(exc)[:80]})") from None
    return space_from_dict(data, origin)


def metadata_structure(metadata: dict[str, Any] | None, key: str = "observation"
                       ) -> gym.Space | None:
    """The environment's own observation (or ``key="action"``) space, when not the stored one.

    ``core.spaces.unflatten_observation(space, row)`` turns a stored row back into it.
    """
    env = (metadata or {}).get("env") or {}
    data = env.get(f"{key}_structure")
    return None if data is None else structure_from_dict(data, f"metadata env.{key}_structure")


def numeric_dtype(name: Any, origin: str) -> np.dtype:
    """``np.dtype(name)`` for a bool, integer or float dtype; anything else is refused."""
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biuf":
        raise DatasetFormatError(f"{origin}: {name!r} is not a numeric dtype")
    return dtype


def metadata_spaces(metadata: dict[str, Any] | None) -> tuple[Any, Any]:
    """``(observation_space, action_space)`` described by ``metadata`` (``None`` where absent)."""
    env = (metadata or {}).get("env") or {}
    obs, act = (space_from_dict(env[key], f"metadata field env.{key}") if env.get(key) else None
                for key in ("observation_space", "action_space"))
    return obs, act


def dataset_spaces(metadata: dict[str, Any] | None, obs: Any, actions: np.ndarray
                   ) -> tuple[gym.Space, gym.Space]:
    """The spaces ``metadata`` declares when it declares both, else :func:`infer_spaces`'."""
    observation_space, action_space = metadata_spaces(metadata)
    if observation_space is not None and action_space is not None:
        return observation_space, action_space
    obs_dict, act_dict = infer_spaces(obs, actions)
    return space_from_dict(obs_dict), space_from_dict(act_dict)


SAFE_INTEGER = 1 << 53
"""Integer bounds beyond this are written as +-2**53 (a JSON number must survive a float)."""


def _bounds(dtype: np.dtype) -> tuple[float | str | int, float | str | int]:
    if dtype.kind == "f":
        return "-inf", "inf"
    if dtype == np.uint8:  # images
        return 0, 255
    if dtype.kind == "b":
        return 0, 1
    info = np.iinfo(dtype)
    return max(int(info.min), -SAFE_INTEGER), min(int(info.max), SAFE_INTEGER)


def infer_spaces(obs: Any, actions: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Space descriptions guessed from data when no environment is known (the one rule).

    Observations become a Box of their shape and dtype (lazily decoded images are uint8);
    integer actions, one per step, a Discrete space covering the values seen (from
    ``min(0, lowest)``: every stored action is in it); other actions a Box of their shape and
    dtype. Box bounds come from the dtype: unbounded for floats, ``[0, 255]`` for uint8 (images),
    the type's range for other integers (at most ``+-2**53``).
    """
    def box(shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any]:
        size = int(np.prod(shape)) if shape else 1
        low, high = _bounds(dtype)
        return {"type": "Box", "shape": list(shape), "dtype": str(dtype),
                "low": [low] * size, "high": [high] * size}

    actions = np.asarray(actions)
    if np.issubdtype(actions.dtype, np.integer) and actions.ndim == 1:
        start = min(0, int(actions.min()))  # every stored action must be in the space
        action = {"type": "Discrete", "n": int(actions.max()) - start + 1, "start": start}
    else:
        action = box(tuple(actions.shape[1:]), actions.dtype)
    return box(tuple(obs.shape[1:]), np.dtype(obs.dtype)), action


def env_description(env_id: str | None, kwargs: dict[str, Any], spec: Any,
                    observation_space: gym.Space, action_space: gym.Space,
                    original_observation_space: gym.Space | None = None) -> dict[str, Any]:
    """The metadata's ``env`` entry: id, kwargs, the registry's spec (JSON) and both spaces.

    ``observation_space``/``action_space`` describe what is stored (a Box or Discrete space);
    where the environment's own space differs (a Dict, Tuple, Discrete or MultiBinary
    observation, a MultiDiscrete or MultiBinary action), ``observation_structure`` /
    ``action_structure`` describe it too (``core/spaces.py``): absent for Box observations and
    Box/Discrete actions, so those datasets' metadata is unchanged.

    Args:
        env_id: the Gymnasium id (``None`` when unknown, e.g. a Minari file's unregistered id).
        kwargs: the keyword arguments the env is made with.
        spec: the ``gymnasium.envs.registration.EnvSpec`` (``None`` when unknown); a spec that
            cannot be written as JSON (it holds callables) is recorded as ``None``.
        observation_space: the observation space.
        action_space: the action space.
        original_observation_space: the environment's own observation space, when the env
            was wrapped to store it as a Box (``core.spaces.StorableObservation``).
    """
    try:
        spec_json = json.loads(spec.to_json()) if spec is not None else None
    except Exception:  # noqa: BLE001 - some specs hold callables; the id and kwargs remain
        spec_json = None
    description: dict[str, Any] = {
        "id": env_id,
        "kwargs": kwargs,
        "spec": spec_json,
        "max_episode_steps": getattr(spec, "max_episode_steps", None),
        "observation_space": space_to_dict(observation_space),
        "action_space": space_to_dict(action_space),
    }
    if original_observation_space is not None and \
            not isinstance(original_observation_space, gym.spaces.Box):
        description["observation_structure"] = space_structure(original_observation_space)
    if not isinstance(action_space, gym.spaces.Box | gym.spaces.Discrete):
        description["action_structure"] = space_structure(action_space)
    return description
