"""Files of a recipe's checkpoint folder and the identity of a training run.

Shared by both trainers (``sb3_training.py``, ``ars_training.py``), the validation loop
(``selection.py``) and shipping (``shipping.py``). A checkpoint folder holds
``best.safetensors`` + ``best.json`` (best validated export), ``progress.csv`` (validation
curve) and, for resumable recipes, ``state.safetensors`` + ``state.json`` (training state).
This module writes and reads those files and decides whether they belong to a recipe's run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_path, atomic_write_text
from imitation_datasets.core.versions import library_versions
from imitation_datasets.experts.network import sha256_file
from imitation_zoo.recipe import CHECKPOINTS_DIR, Recipe

log = logging.getLogger(__name__)

DEFAULT_SCRATCH = Path(".train")
"""Scratch root (relative to the working directory); git-ignored in the repository."""

BEST_EXPORT = "best.safetensors"
BEST_INFO = "best.json"
STATE_TENSORS = "state.safetensors"
STATE_INFO = "state.json"
PROGRESS = "progress.csv"
STATE_SAVE_INTERVAL_S = 120.0
"""Resumable recipes save their training state at least this often (and at every validation)."""

TRAINING_DISTRIBUTIONS = ("stable-baselines3", "sb3-contrib", "torch", "gymnasium", "numpy",
                          "safetensors")
"""Libraries whose versions a training run records (``run.library_versions``; files written
before this list existed name them by module, ``stable_baselines3``, and are read the same)."""

SB3_RNG_NOTE = (
    "on resume torch, numpy, python and the training environments are re-seeded with "
    "seed + updates_done; a resumed run is reproducible from the committed state but is not "
    "identical to an uninterrupted run"
)
"""How the stable-baselines3 resumable recipes re-seed on resume (``state.json``'s ``rng``; the
card's ``resumable.rng`` when a state lacks it)."""

SELECTION_FIELDS = ("eval_freq", "eval_episodes", "stop_at", "aliases", "source", "target")
"""Recipe fields that do not change a resumable training trajectory, only checkpoint selection
(and the card): changing them keeps the training state but re-validates the best checkpoint."""


def training_versions() -> dict[str, str]:
    """Python's and :data:`TRAINING_DISTRIBUTIONS`' versions (``"missing"``: not installed)."""
    return library_versions(TRAINING_DISTRIBUTIONS, missing="missing")


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
    if info is None or not state_matches(recipe, total, info):
        return False
    if not recipe.resumable:
        return True
    return info.get("selection_digest", info.get("recipe_digest")) == selection_digest(recipe)


def checkpoint_dir(recipe: Recipe, scratch_root: Path = DEFAULT_SCRATCH,
                   checkpoints_root: Path = CHECKPOINTS_DIR) -> Path:
    """Folder of a recipe's best checkpoint (and, when resumable, its training state)."""
    return Path(checkpoints_root if recipe.resumable else scratch_root) / recipe.key


def load_best_info(folder: Path) -> dict[str, Any] | None:
    """Contents of ``best.json`` in a checkpoint folder (``None``: missing or unreadable)."""
    return _read_json(folder / BEST_INFO)


def load_state_info(folder: Path) -> dict[str, Any] | None:
    """Contents of ``state.json`` in a checkpoint folder (``None``: missing or unreadable)."""
    return _read_json(folder / STATE_INFO)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def save_tensors(path: Path, tensors: dict[str, np.ndarray]) -> str:
    """Write ``tensors`` as a safetensors file atomically; return the file's sha256."""
    from safetensors.numpy import save_file

    with atomic_path(path) as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())}, str(tmp))
        return sha256_file(tmp)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def write_state(folder: Path, tensors: dict[str, np.ndarray], info: dict[str, Any]) -> None:
    """Write ``state.safetensors`` then ``state.json`` (with the tensors' sha256), each atomic."""
    digest = save_tensors(folder / STATE_TENSORS, tensors)
    write_json_atomic(folder / STATE_INFO, {**info, "state_sha256": digest})


def clear_checkpoint(folder: Path, keep_state: bool, progress_only: bool = False) -> None:
    """Delete a checkpoint folder's files before a new run.

    ``keep_state`` keeps the training state and its validation curve; ``progress_only``
    deletes only the curve (scratch folders of non-resumable recipes).
    """
    for name in (PROGRESS, BEST_INFO, BEST_EXPORT, STATE_INFO, STATE_TENSORS):
        if keep_state and name in (PROGRESS, STATE_INFO, STATE_TENSORS):
            continue
        if (folder / name).exists() and (name == PROGRESS or not progress_only):
            (folder / name).unlink()


@dataclass(frozen=True)
class EarlierRun:
    """What a new training run keeps from the checkpoint folder of an earlier one."""

    best: tuple[float, float] | None
    """Validation ``(mean, std)`` of the kept best checkpoint (``None``: none kept)."""
    state: dict[str, Any] | None
    """The kept ``state.json`` of a resumable recipe (``None``: start from scratch)."""


def earlier_run(recipe: Recipe, total: int, folder: Path, fresh: bool = False) -> EarlierRun:
    """Decide what to keep from ``folder`` and delete the rest (see :func:`clear_checkpoint`).

    A resumable recipe keeps its training state when it was written by the same run (same
    :func:`training_digest`, tensors present) and its best checkpoint when that state is kept
    and the best was selected with the same rules; other recipes keep a best checkpoint of the
    same recipe. ``fresh`` keeps nothing.
    """
    previous = None if fresh else load_best_info(folder)
    state = None if fresh or not recipe.resumable else load_state_info(folder)
    if state is not None and not (state_matches(recipe, total, state)
                                  and (folder / STATE_TENSORS).is_file()):
        log.info("[%s] training state in %s belongs to another recipe; starting over",
                 recipe.key, folder)
        state = None
    if state is not None and sha256_file(folder / STATE_TENSORS) != state.get("state_sha256"):
        log.warning("[%s] state.safetensors is newer than state.json (interrupted save); "
                    "resuming from the tensors", recipe.key)
    if best_matches(recipe, total, previous) and (state is not None or not recipe.resumable):
        assert previous is not None
        best = (float(previous["validation"]["return_mean"]),
                float(previous["validation"]["return_std"]))
        log.info("[%s] keeping the best checkpoint of an earlier run (step %s, validation %.2f) "
                 "unless beaten", recipe.key, previous["timesteps"], best[0])
        return EarlierRun(best, state)
    if state is not None and previous is not None:
        log.info("[%s] checkpoint selection rules changed: the best checkpoint will be "
                 "re-validated; the training state is kept", recipe.key)
    clear_checkpoint(folder, state is not None, progress_only=not recipe.resumable)
    return EarlierRun(None, state)
