"""Method checkpoints on disk: safetensors weights plus JSON, no pickle anywhere.

A checkpoint is a folder:

* ``weights.safetensors``: every network's ``state_dict``, keys prefixed by the network's name
  (``policy.body.0.weight``, ``idm.normaliser.mean``);
* ``method.json``: format tag and version, the method's registered name, its observation and
  action spaces, its configuration and seed (enough to rebuild it before loading the weights);
* ``training_log.json``: the learning curve, when the method was trained.

Each file is replaced atomically. :meth:`~imitation_datasets.methods.base.Method.save` and
``load`` use these functions; reading never evaluates anything from the files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from imitation_datasets.core.atomic import atomic_path, atomic_write_text
from imitation_datasets.core.errors import OneLineError

CHECKPOINT_FORMAT = "imitation_datasets.method"
CHECKPOINT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
DESCRIPTION_FILE = "method.json"
LOG_FILE = "training_log.json"


class CheckpointError(OneLineError, ValueError):
    """A method checkpoint is missing, malformed, or belongs to another method."""


def write_checkpoint(path: str | os.PathLike[str], networks: dict[str, nn.Module],
                     description: dict[str, Any], log: dict[str, Any] | None) -> Path:
    """Write the weights, ``description`` (format and version added) and ``log`` to a folder."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors = {f"{name}.{key}": value.detach().contiguous().clone()
               for name, net in networks.items() for key, value in net.state_dict().items()}
    with atomic_path(path / WEIGHTS_FILE) as tmp:
        save_file(tensors, str(tmp))
    described = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **description}
    atomic_write_text(path / DESCRIPTION_FILE, json.dumps(described, indent=1))
    if log is not None:
        atomic_write_text(path / LOG_FILE, json.dumps(log, indent=1))
    return path


def read_description(path: Path) -> dict[str, Any]:
    """The checked ``method.json`` of a checkpoint folder.

    Raises:
        CheckpointError: missing, not JSON, or without the checkpoint format tag.
    """
    try:
        description = json.loads((path / DESCRIPTION_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a method checkpoint ({exc})") from exc
    if not isinstance(description, dict) or description.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a method checkpoint ({DESCRIPTION_FILE} has no "
                              f"format {CHECKPOINT_FORMAT!r})")
    return description


def load_weights(path: Path, networks: dict[str, nn.Module], method: str) -> None:
    """Load ``weights.safetensors`` into ``networks`` (every key must fit, strictly).

    Raises:
        CheckpointError: the file cannot be read or its tensors do not fit ``method``'s networks.
    """
    from safetensors.torch import load_file

    try:
        state: dict[str, torch.Tensor] = load_file(str(path / WEIGHTS_FILE))
    except Exception as exc:  # noqa: BLE001 - safetensors raises several types
        raise CheckpointError(f"{path}: cannot read {WEIGHTS_FILE} ({exc})") from exc
    for name, net in networks.items():
        prefix = f"{name}."
        part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(part, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(f"{path}: weights do not fit {method!r} ({first})") from exc


def read_log(path: Path) -> dict[str, Any] | None:
    """The checkpoint's training log as written, or ``None`` when it has none."""
    if not (path / LOG_FILE).is_file():
        return None
    try:
        log = json.loads((path / LOG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read {LOG_FILE} ({exc})") from exc
    if not isinstance(log, dict):
        raise CheckpointError(f"{path}: {LOG_FILE} must hold an object")
    return log
