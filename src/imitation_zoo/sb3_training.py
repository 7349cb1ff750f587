"""Train a stable-baselines3 / sb3-contrib recipe, keeping its best validated checkpoint.

1. builds the environments (``DummyVecEnv``, optional ``VecNormalize``) and the algorithm from
   the recipe with its seed and one torch thread (``sb3_setup.py``);
2. every ``eval_freq`` environment steps exports the current policy (checked against SB3's
   ``predict``) and validates it with :class:`~imitation_zoo.selection.BestCheckpoint`; the best
   checkpoint so far is kept on disk in the scratch folder (``.train/KEY/``: export, SB3 model
   and ``VecNormalize`` statistics), so a killed run loses nothing already found; a rerun of the
   same recipe keeps that checkpoint unless it finds a better one (``fresh`` starts over).

Resumable recipes (``resumable: true``, sb3-contrib's ARS) keep their checkpoint folder in the
committed ``checkpoints/KEY/`` instead, without pickle or zip: ``state.safetensors`` +
``state.json`` are written at every validation and at least every ``STATE_SAVE_INTERVAL_S``
seconds; a run resumes from them when they were written by the same recipe (the digest ignores
``total_timesteps``, so a budget may be raised later, and the checkpoint-selection fields
``SELECTION_FIELDS``: changing those re-validates the best checkpoint). On resume every random
generator is re-seeded with ``seed + updates done`` (``SB3_RNG_NOTE``). Each improvement is
shipped to the zoo (at most once every ``SHIP_INTERVAL_S`` seconds, at once when the validation
first reaches the target), so the zoo always holds a measured, honestly labelled best-so-far
expert.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from imitation_zoo.checkpoint import (
    BEST_INFO,
    DEFAULT_SCRATCH,
    SB3_RNG_NOTE,
    STATE_SAVE_INTERVAL_S,
    best_matches,
    checkpoint_dir,
    earlier_run,
    load_best_info,
    training_digest,
    training_versions,
    write_json_atomic,
)
from imitation_zoo.export import ExportMismatchError, export_sb3
from imitation_zoo.recipe import CHECKPOINTS_DIR, Recipe, train_command
from imitation_zoo.sb3_setup import (
    build_model,
    load_ars_state,
    make_training_env,
    save_ars_state,
)
from imitation_zoo.selection import NO_BEST, BestCheckpoint, StopTraining
from imitation_zoo.shipping import ship

log = logging.getLogger(__name__)

SHIP_INTERVAL_S = 600.0
"""Resumable recipes ship an improved best checkpoint to the zoo at most this often."""


def validation_callback(keeper: BestCheckpoint, vecnorm: Any, start_steps: int = 0,
                        on_state: Any = None, on_improve: Any = None,
                        max_seconds: float | None = None) -> Any:
    """An SB3 callback that hands the exported policy to ``keeper`` every ``eval_freq`` steps.

    ``on_state()`` (resumable recipes) saves the training state; it is called after every
    validation, at least every ``STATE_SAVE_INTERVAL_S`` seconds and before a stop.
    ``on_improve()`` is called after a new best checkpoint was saved. ``max_seconds`` ends the
    segment (:class:`StopTraining`) after that much wall time.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    recipe = keeper.recipe
    scratch = keeper.folder

    class ValidationCallback(BaseCallback):
        """Validate every ``eval_freq`` steps; keep the best checkpoint on disk."""

        def __init__(self) -> None:
            super().__init__(verbose=0)
            self.next_eval = start_steps + recipe.eval_freq
            self.last_eval = -1
            self.last_state_save = time.monotonic()
            self.stopped_early = False

        def save_state(self) -> None:
            """Save the resumable training state (no-op for other recipes)."""
            if on_state is not None:
                on_state()
                self.last_state_save = time.monotonic()

        def _save_model(self) -> None:
            if recipe.resumable:  # committed checkpoints hold no pickle and no zip
                return
            self.model.save(scratch / "best_model.zip")
            stats = scratch / "best_vecnormalize.pkl"
            if vecnorm is not None:
                vecnorm.save(str(stats))
            elif stats.exists():  # left by an earlier recipe
                stats.unlink()

        def _validate(self) -> bool:
            steps = int(self.num_timesteps)
            self.last_eval = steps
            try:
                exported = export_sb3(self.model, vecnorm, check_seed=steps)
            except ExportMismatchError as exc:  # never ship a checkpoint that fails the check
                log.warning("[%s] step %d: export check failed, skipped (%s)", recipe.key,
                            steps, exc)
                return True
            result = keeper.validate(steps, exported, on_best=self._save_model)
            if result.improved and on_improve is not None:
                on_improve()
            self.save_state()
            if keeper.stop_reached(result.mean):
                self.stopped_early = True
                raise StopTraining
            return True

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += recipe.eval_freq
                return self._validate()
            if on_state is not None or max_seconds is not None:
                now = time.monotonic()
                if on_state is not None and now - self.last_state_save >= STATE_SAVE_INTERVAL_S:
                    self.save_state()
                if max_seconds is not None and keeper.segment_time() >= max_seconds:
                    self.save_state()
                    log.info("[%s] segment time limit reached at step %d; stopping",
                             recipe.key, self.num_timesteps)
                    raise StopTraining
            return True

        def _on_training_end(self) -> None:
            if self.last_eval != self.num_timesteps and not self.stopped_early:
                self._validate()

    return ValidationCallback()


def train(recipe: Recipe, timesteps: int | None = None, scratch_root: Path = DEFAULT_SCRATCH,
          fresh: bool = False, checkpoints_root: Path = CHECKPOINTS_DIR,
          max_minutes: float | None = None, ship_to: Path | None = None) -> dict[str, Any]:
    """Train ``recipe`` and keep its best validated checkpoint in its checkpoint folder.

    Args:
        recipe: the expert's recipe.
        timesteps: override of ``recipe.total_timesteps``.
        scratch_root: folder of the scratch directories (recipes that are not resumable).
        fresh: forget a best checkpoint (and training state) left by an earlier run.
        checkpoints_root: folder of the committed checkpoints of resumable recipes.
        max_minutes: end this training segment after that much wall time (state saved).
        ship_to: resumable recipes ship improvements to this zoo folder while training
            (``None``: do not ship during training).

    Returns:
        The contents of ``best.json`` after training.
    """
    import torch

    torch.set_num_threads(1)
    total = int(timesteps or recipe.total_timesteps)
    digest = training_digest(recipe, total)
    scratch = checkpoint_dir(recipe, scratch_root, checkpoints_root)
    scratch.mkdir(parents=True, exist_ok=True)
    earlier = earlier_run(recipe, total, scratch, fresh)

    run = {
        "command": train_command(recipe.key, timesteps),
        "total_timesteps": total,
        "library_versions": training_versions(),
        "torch_num_threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    env, vecnorm = make_training_env(recipe)
    model = build_model(recipe, env)

    state = earlier.state
    start_steps, elapsed_offset, segments = 0, 0.0, []
    if state is not None:
        load_ars_state(model, vecnorm, scratch)
        start_steps = int(state["timesteps"])
        model.num_timesteps = start_steps
        model._n_updates = int(state["n_updates"])
        elapsed_offset = float(state["wall_time_s"])
        segments = list(state.get("segments", []))
        model.set_random_seed(recipe.seed + model._n_updates)
        log.info("[%s] resuming at step %d (update %d, %.0fs trained so far)", recipe.key,
                 start_steps, model._n_updates, elapsed_offset)
    segment = {"started": run["started"], "from_timesteps": start_steps,
               "seed": recipe.seed + (model._n_updates if state is not None else 0)}
    segment_start = time.monotonic()
    keeper = BestCheckpoint(recipe, scratch, digest, run, earlier.best or NO_BEST,
                            elapsed_offset)

    def on_state() -> None:
        segment.update({"to_timesteps": int(model.num_timesteps),
                        "wall_time_s": round(time.monotonic() - segment_start, 1)})
        save_ars_state(model, vecnorm, scratch, {
            "recipe_digest": digest,
            "key": recipe.key,
            "timesteps": int(model.num_timesteps),
            "n_updates": int(model._n_updates),
            "wall_time_s": round(keeper.elapsed(), 1),
            "total_timesteps": total,
            "best_validation": {"return_mean": keeper.best[0], "return_std": keeper.best[1]},
            "rng": SB3_RNG_NOTE,
            "segments": [*segments, dict(segment)],
            "library_versions": run["library_versions"],
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })

    last_ship = [-np.inf, -np.inf]  # time of the last ship, validation mean it shipped

    def on_improve() -> None:
        first_at_target = keeper.best[0] >= recipe.target > last_ship[1]
        if ship_to is None or (time.monotonic() - last_ship[0] < SHIP_INTERVAL_S
                               and not first_at_target):
            return
        last_ship[1] = keeper.best[0]
        callback.save_state()
        try:
            ship(recipe, timesteps, scratch_root, ship_to, checkpoints_root)
        except Exception:  # shipping must never end a long training
            log.exception("[%s] shipping failed", recipe.key)
        last_ship[0] = time.monotonic()

    callback = validation_callback(
        keeper, vecnorm, start_steps=start_steps,
        on_state=on_state if recipe.resumable else None,
        on_improve=on_improve if recipe.resumable else None,
        max_seconds=None if max_minutes is None else 60.0 * max_minutes)
    started = time.monotonic()
    try:
        if model.num_timesteps < total:
            model.learn(total_timesteps=total - model.num_timesteps, callback=callback,
                        reset_num_timesteps=not recipe.resumable or state is None)
    except StopTraining:
        pass
    finally:
        if recipe.resumable and model.num_timesteps > start_steps:
            callback.save_state()
    wall = time.monotonic() - started
    env.close()

    info = load_best_info(scratch)
    if info is None or not best_matches(recipe, total, info):
        raise RuntimeError(f"{recipe.key}: training produced no valid checkpoint")
    if info["run"].get("started") == run["started"] and not recipe.resumable:
        info["run"].update({"wall_time_s": round(wall, 1), "trained_timesteps":
                            int(model.num_timesteps), "stopped_early": callback.stopped_early})
        write_json_atomic(scratch / BEST_INFO, info)
    log.info("[%s] trained %d steps in %.0fs (total %d); best validation %.2f at step %s",
             recipe.key, model.num_timesteps - start_steps, wall, model.num_timesteps,
             info["validation"]["return_mean"], info["timesteps"])
    return info
