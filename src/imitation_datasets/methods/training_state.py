"""A training run's full state in one file, to resume it later: safetensors plus JSON, no pickle.

A run that is stopped (a killed worker, a session that ends) resumes from its last saved
state and finishes with the same bytes as a run that was never stopped. The state is nested
Python data (``state_dict`` s of networks and optimisers, buffers, counters, the learning curve);
:func:`write_training_state` stores its tensors as safetensors and the rest as JSON in the same
file's metadata, and :func:`read_training_state` rebuilds it. Dict keys keep their types (an
optimiser's ``state`` is keyed by ints), tuples come back as lists.

The file is replaced atomically: a crash leaves the previous state or the new one. Reading
never evaluates anything from the file; every tensor's shape is checked by whoever loads it
(``load_state_dict`` or :func:`expect`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import torch

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.errors import OneLineError

STATE_FORMAT = "imitation_datasets.training_state"
STATE_VERSION = 1
_TENSOR = "__tensor__"
_DICT = "__dict__"
MAX_STATE_BYTES = 8 << 30
"""A state file larger than this is refused (replay buffers of 1M MuJoCo rows are ~0.3 GB)."""


class TrainingStateError(OneLineError, ValueError):
    """A saved training state is unreadable, malformed or belongs to another run."""


def _flatten(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """``value`` as JSON-ready data, its tensors moved into ``tensors`` (placeholders left)."""
    if isinstance(value, torch.Tensor):
        key = str(len(tensors))
        tensors[key] = value.detach().cpu().contiguous().clone()
        return {_TENSOR: key}
    if isinstance(value, dict):
        return {_DICT: [[k, _flatten(v, tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_flatten(v, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"training state: cannot store a {type(value).__name__}")


def _unflatten(value: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if isinstance(value, list):
        return [_unflatten(v, tensors, where) for v in value]
    if isinstance(value, dict):
        if set(value) == {_TENSOR}:
            key = value[_TENSOR]
            if not isinstance(key, str) or key not in tensors:
                raise TrainingStateError(f"{where}: names a tensor it does not hold ({key!r})")
            return tensors[key]
        if set(value) == {_DICT} and isinstance(value[_DICT], list):
            out: dict[Any, Any] = {}
            for pair in value[_DICT]:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int))):
                    raise TrainingStateError(f"{where}: malformed mapping entry")
                out[pair[0]] = _unflatten(pair[1], tensors, where)
            return out
        raise TrainingStateError(f"{where}: malformed entry with keys {sorted(value)[:3]}")
    return value


def write_training_state(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write ``state`` (nested dicts, lists, tensors, JSON scalars) to ``path`` atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    tree = _flatten(state, tensors)
    meta = json.dumps({"format": STATE_FORMAT, "version": STATE_VERSION, "state": tree})
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"training_state": meta})
    return path


def read_training_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The state :func:`write_training_state` wrote to ``path``.

    Raises:
        TrainingStateError: the file is missing, too large, not a training state, or malformed.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise TrainingStateError(f"{path}: not a file")
        if size > MAX_STATE_BYTES:
            raise TrainingStateError(f"{path}: {size} bytes, more than a training state may hold "
                                     f"({MAX_STATE_BYTES})")
        with safe_open(str(path), framework="pt") as handle:
            meta = (handle.metadata() or {}).get("training_state")
        tensors = load_file(str(path))
    except TrainingStateError:
        raise
    except Exception as exc:  # noqa: BLE001 - OSError and safetensors' own error types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingStateError(f"{path}: cannot read the training state ({first})") from exc
    try:
        header = json.loads(meta) if isinstance(meta, str) else None
    except ValueError as exc:
        raise TrainingStateError(f"{path}: the training state's JSON is malformed ({exc})") \
            from exc
    if not isinstance(header, dict) or header.get("format") != STATE_FORMAT:
        raise TrainingStateError(f"{path}: not a training state (no format {STATE_FORMAT!r})")
    if header.get("version") != STATE_VERSION:
        raise TrainingStateError(f"{path}: training state version {header.get('version')!r}, "
                                 f"this version reads {STATE_VERSION}")
    state = _unflatten(header.get("state"), tensors, str(path))
    if not isinstance(state, dict):
        raise TrainingStateError(f"{path}: the training state must be a mapping")
    return state


def expect(state: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``state[key]``, checked to be a ``kind`` (one-line error naming ``where`` otherwise)."""
    value = state.get(key) if isinstance(state, dict) else None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
        raise TrainingStateError(f"{where}: training state entry {key!r} is missing or has the "
                                 f"wrong type")
    if isinstance(value, float) and math.isnan(value):
        raise TrainingStateError(f"{where}: training state entry {key!r} is NaN")
    return value


def expect_tensor(state: dict[str, Any], key: str, like: torch.Tensor, where: str) -> torch.Tensor:
    """``state[key]``, a tensor of ``like``'s shape and dtype (one-line error otherwise)."""
    value = expect(state, key, torch.Tensor, where)
    if value.shape != like.shape or value.dtype != like.dtype:
        raise TrainingStateError(f"{where}: training state tensor {key!r} is "
                                 f"{tuple(value.shape)} {value.dtype}, expected "
                                 f"{tuple(like.shape)} {like.dtype}")
    return value


def load_module_state(module: torch.nn.Module | torch.optim.Optimizer, state: Any,
                      name: str, where: str) -> None:
    """``module.load_state_dict(state)`` with a one-line error when it does not fit."""
    if not isinstance(state, dict):
        raise TrainingStateError(f"{where}: training state of {name!r} is missing")
    try:
        if isinstance(module, torch.nn.Module):
            module.load_state_dict(state, strict=True)
        else:
            _check_optimizer_state(module, state, name, where)
            module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingStateError(f"{where}: training state of {name!r} does not fit "
                                 f"({first})") from exc


def _check_optimizer_state(optimizer: torch.optim.Optimizer, state: dict[Any, Any], name: str,
                           where: str) -> None:
    """Every saved moment has its parameter's shape (``load_state_dict`` does not check it)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved = state.get("state")
    if not isinstance(saved, dict):
        raise TrainingStateError(f"{where}: training state of {name!r} has no 'state'")
    for index, moments in saved.items():
        if not isinstance(index, int) or not 0 <= index < len(params) \
                or not isinstance(moments, dict):
            raise TrainingStateError(f"{where}: training state of {name!r} names parameter "
                                     f"{index!r}, which the optimiser does not have")
        for key, value in moments.items():
            if not isinstance(value, torch.Tensor) or \
                    (value.dim() > 0 and value.shape != params[index].shape):
                raise TrainingStateError(f"{where}: training state of {name!r}: {key} of "
                                         f"parameter {index} does not fit its shape")
