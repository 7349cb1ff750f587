"""Files of a recipe's checkpoint folder and the identity of a training run.

Shared by the stable-baselines3 training loop (``train.py``), the ARS-numpy training loop
(``ars_training.py``) and shipping (``shipping.py``). A checkpoint folder holds
``best.safetensors`` + ``best.json`` (best validated export), ``progress.csv`` (validation
curve) and, for resumable recipes, ``state.safetensors`` + ``state.json`` (training state).
This module writes and reads those files and decides whether they belong to a recipe's run.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.experts.network import sha256_file
from imitation_datasets.experts.recipes import CHECKPOINTS_DIR, Recipe

DEFAULT_SCRATCH = Path(".train")
"""Scratch root (relative to the working directory); git-ignored in the repository."""

BEST_EXPORT = "best.safetensors"
BEST_INFO = "best.json"
STATE_TENSORS = "state.safetensors"
STATE_INFO = "state.json"
STATE_SAVE_INTERVAL_S = 120.0
"""Resumable recipes save their training state at least this often (and at every validation)."""
RNG_NOTE = (
    "on resume torch, numpy, python and the training environments are re-seeded with "
    "seed + updates_done; a resumed run is reproducible from the committed state but is not "
    "identical to an uninterrupted run"
)
"""How the stable-baselines3 resumable recipes re-seed on resume (``state.json``'s ``rng``; the
card's ``resumable.rng`` when a state lacks it)."""

SELECTION_FIELDS = ("eval_freq", "eval_episodes", "stop_at", "aliases", "source", "target")
"""Recipe fields that do not change a resumable training trajectory, only checkpoint selection
(and the card): changing them keeps the training state but re-validates the best checkpoint."""


def training_digest(recipe: Recipe, total_timesteps: int) -> str:
    """Identity of a training run.

    Resumable recipes ignore the budget (it may be raised) and the :data:`SELECTION_FIELDS`.
    """
    if not recipe.resumable:
        return recipe.digest(total_timesteps)
    data = recipe.to_dict()
    for name in ("total_timesteps", *SELECTION_FIELDS):
        data.pop(name)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def selection_digest(recipe: Recipe) -> str:
    """Identity of a resumable recipe's checkpoint selection (everything but the budget)."""
    return recipe.digest(0)


def state_matches(recipe: Recipe, total: int, info: dict[str, Any] | None) -> bool:
    """Whether a ``state.json`` / ``best.json`` was written by this recipe's training run."""
    if info is None:
        return False
    found = info.get("recipe_digest")
    if found == training_digest(recipe, total):
        return True
    # states written before SELECTION_FIELDS were left out of the digest
    return recipe.resumable and found == selection_digest(recipe)


def best_matches(recipe: Recipe, total: int, info: dict[str, Any] | None) -> bool:
    """Whether a ``best.json`` belongs to this run and was selected with this recipe's rules."""
    if not state_matches(recipe, total, info):
        return False
    if not recipe.resumable:
        return True
    return info.get("selection_digest", info.get("recipe_digest")) == selection_digest(recipe)


def checkpoint_dir(recipe: Recipe, scratch_root: Path = DEFAULT_SCRATCH,
                   checkpoints_root: Path = CHECKPOINTS_DIR) -> Path:
    """Folder of a recipe's best checkpoint (and, when resumable, its training state)."""
    return Path(checkpoints_root if recipe.resumable else scratch_root) / recipe.key


def train_command(key: str, timesteps: int | None = None) -> str:
    """Shell command that retrains one expert (as recorded in its card)."""
    command = f"python -m imitation_datasets.experts.recipes.train {key}"
    return command if timesteps is None else f"{command} --timesteps {int(timesteps)}"


def library_versions() -> dict[str, str]:
    """Versions of the libraries a training run depends on."""
    versions = {"python": platform.python_version()}
    for module in ("stable_baselines3", "sb3_contrib", "torch", "gymnasium", "numpy",
                   "safetensors"):
        try:
            versions[module] = str(importlib.import_module(module).__version__)
        except (ImportError, AttributeError):
            versions[module] = "missing"
    return versions


def load_best_info(scratch: Path) -> dict[str, Any] | None:
    """Contents of ``best.json`` in a checkpoint folder (``None``: missing or unreadable)."""
    return _read_json(scratch / BEST_INFO)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (staged file, then renamed)."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def load_state_info(folder: Path) -> dict[str, Any] | None:
    """Contents of ``state.json`` in a checkpoint folder (``None``: missing or unreadable)."""
    return _read_json(folder / STATE_INFO)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def write_state(folder: Path, tensors: dict[str, np.ndarray], info: dict[str, Any]) -> None:
    """Write ``state.safetensors`` (atomic) then ``state.json`` with the tensors' sha256."""
    from safetensors.numpy import save_file

    tmp = folder / f".{STATE_TENSORS}.tmp"
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp))
    info = {**info, "state_sha256": sha256_file(tmp)}
    tmp.replace(folder / STATE_TENSORS)
    write_json_atomic(folder / STATE_INFO, info)


def clear_checkpoint(folder: Path, keep_state: bool, progress_only: bool = False) -> None:
    """Delete a checkpoint folder's files before a new run.

    ``keep_state`` keeps the training state and its validation curve; ``progress_only``
    deletes only the curve (scratch folders of non-resumable recipes).
    """
    for name in ("progress.csv", BEST_INFO, BEST_EXPORT, STATE_INFO, STATE_TENSORS):
        if keep_state and name in ("progress.csv", STATE_INFO, STATE_TENSORS):
            continue
        if (folder / name).exists() and (name == "progress.csv" or not progress_only):
            (folder / name).unlink()
