"""Training loop of ``algo: ARS-numpy`` recipes: updates, state, resume, shipping.

Same folder layout and selection as the stable-baselines3 recipes (``checkpoint.py`` writes and
matches the files, ``selection.py`` validates and keeps the best): ``checkpoints/KEY/`` holds
``state.safetensors`` + ``state.json`` (the whole training state), ``best.safetensors`` +
``best.json`` (best validated export) and ``progress.csv``. The state is saved after every
validation, at least every ``STATE_SAVE_INTERVAL_S`` seconds and when a segment ends
(``--max-minutes``, Ctrl-C, SIGTERM), so a killed run loses at most that much.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.rollout import make_env
from imitation_zoo.ars import ARSConfig, ARSState, Layout, ObsStats, Pool, network_spec, update
from imitation_zoo.checkpoint import (
    STATE_SAVE_INTERVAL_S,
    STATE_TENSORS,
    earlier_run,
    load_best_info,
    training_digest,
    training_versions,
    write_state,
)
from imitation_zoo.export import ExportedPolicy, check_observations
from imitation_zoo.recipe import CHECKPOINTS_DIR, Recipe, train_command
from imitation_zoo.selection import NO_BEST, BestCheckpoint
from imitation_zoo.shipping import ship

log = logging.getLogger(__name__)

ALGO = "ARS-numpy"
RNG_NOTE = ("update u draws its directions and reset seeds from numpy.random.default_rng("
            "[seed, u]); a resumed run is identical to an uninterrupted one, for any number of "
            "workers")


def _save_state(folder: Path, state: ARSState, info: dict[str, Any]) -> None:
    tensors = {k: v.astype(np.float64) for k, v in state.tensors().items()}
    write_state(folder, tensors, {**info, "timesteps": state.timesteps,
                                  "n_updates": state.updates})


def _load_state(folder: Path, info: dict[str, Any], layout: Layout, normalize: bool
                ) -> ARSState:
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / STATE_TENSORS))
    state = ARSState.from_tensors(tensors, int(info["n_updates"]), int(info["timesteps"]),
                                  normalize, layout)
    expected = layout.initial(0).shape
    if state.weights.shape != expected:
        raise RuntimeError(f"{folder}: state weights {state.weights.shape}, the recipe's policy "
                           f"needs {expected}")
    return state


def export_state(state: ARSState, spec: dict[str, Any], low: np.ndarray, high: np.ndarray,
                 observation_space: Any) -> ExportedPolicy:
    """The current ARS policy as an exported network, checked on 1000 random observations."""
    exported = ExportedPolicy(spec, state.export(), low, high)
    probe = check_observations(observation_space, 1000, seed=state.timesteps)
    ours = state.act(probe.astype(np.float64), low, high)
    diff = float(np.max(np.abs(exported.network()(probe) - ours)))
    exported.check = {"observations": len(probe), "max_abs_diff": diff}
    return exported


def train_ars(recipe: Recipe, timesteps: int | None = None, fresh: bool = False,
              checkpoints_root: Path = CHECKPOINTS_DIR, max_minutes: float | None = None,
              ship_to: Path | None = None, workers: int | None = None) -> dict[str, Any]:
    """Train (or resume) an ARS-numpy recipe; return ``best.json``'s contents.

    Args:
        recipe: a recipe with ``algo: ARS-numpy``.
        timesteps: override of ``recipe.total_timesteps``.
        fresh: forget the training state and best checkpoint in the folder.
        checkpoints_root: root of the committed checkpoint folders.
        max_minutes: end this segment after that much wall time (state saved).
        ship_to: zoo folder that receives the best checkpoint when the validation first
            reaches the target (``None``: do not ship).
        workers: processes playing episodes (default: every CPU); does not change results.
    """
    total = int(timesteps or recipe.total_timesteps)
    digest = training_digest(recipe, total)
    folder = Path(checkpoints_root) / recipe.key
    folder.mkdir(parents=True, exist_ok=True)
    config = ARSConfig.from_recipe(recipe.hyperparameters, str(recipe.path))
    normalize = bool((recipe.normalize or {}).get("norm_obs", False))
    spec = network_spec(normalize, config.net_arch)
    env = make_env(recipe.env_id, dict(recipe.env_kwargs))
    observation_space, action_space = env.observation_space, env.action_space
    env.close()
    if not isinstance(action_space, gym.spaces.Box) or not isinstance(observation_space,
                                                                       gym.spaces.Box):
        raise ValueError(f"{recipe.key}: ARS-numpy needs Box observations and actions")
    low = action_space.low.astype(np.float64)
    high = action_space.high.astype(np.float64)
    layout = Layout(int(np.prod(observation_space.shape)), int(np.prod(action_space.shape)),
                    config.net_arch)

    earlier = earlier_run(recipe, total, folder, fresh)
    if earlier.state is not None:
        state = _load_state(folder, earlier.state, layout, normalize)
        segments = list(earlier.state.get("segments", []))
        elapsed_offset = float(earlier.state.get("wall_time_s", 0.0))
        log.info("[%s] resuming at step %d (update %d, %.0fs trained so far)", recipe.key,
                 state.timesteps, state.updates, elapsed_offset)
    else:
        state = ARSState(layout.initial(recipe.seed), ObsStats.initial(layout.obs_dim),
                         normalize=normalize, layout=layout)
        segments, elapsed_offset = [], 0.0
    run = {"command": train_command(recipe.key, timesteps), "total_timesteps": total,
           "library_versions": training_versions(), "torch_num_threads": None,
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    pool = Pool(workers or os.cpu_count() or 1)
    segment = {"started": run["started"], "from_timesteps": state.timesteps,
               "workers": pool.workers}
    keeper = BestCheckpoint(recipe, folder, digest, run, earlier.best or NO_BEST,
                            elapsed_offset)
    shipped_at_target = keeper.best[0] >= recipe.target

    def save() -> None:
        segment.update({"to_timesteps": state.timesteps,
                        "wall_time_s": round(keeper.segment_time(), 1)})
        _save_state(folder, state, {
            "recipe_digest": digest, "key": recipe.key, "algo": ALGO,
            "wall_time_s": round(keeper.elapsed(), 1), "total_timesteps": total,
            "best_validation": {"return_mean": keeper.best[0], "return_std": keeper.best[1]},
            "rng": RNG_NOTE, "segments": [*segments, dict(segment)],
            "library_versions": run["library_versions"],
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    next_eval = (state.timesteps // recipe.eval_freq + 1) * recipe.eval_freq
    last_save = time.monotonic()
    deadline = None if max_minutes is None else keeper.started + 60.0 * max_minutes
    try:
        while state.timesteps < total:
            update(state, config, recipe.seed, pool, recipe.env_id, dict(recipe.env_kwargs))
            now = time.monotonic()
            if state.timesteps >= next_eval or state.timesteps >= total:
                next_eval = (state.timesteps // recipe.eval_freq + 1) * recipe.eval_freq
                keeper.validate(state.timesteps,
                                export_state(state, spec, low, high, observation_space))
                save()
                last_save = now
                at_target = keeper.best[0] >= recipe.target
                if ship_to is not None and not shipped_at_target and at_target:
                    shipped_at_target = True
                    ship(recipe, timesteps, out_dir=ship_to, checkpoints_root=checkpoints_root)
                # the best so far: a resumed run that already reached stop_at ends here
                if keeper.stop_reached(keeper.best[0]):
                    break
            elif now - last_save >= STATE_SAVE_INTERVAL_S:
                save()
                last_save = now
            if deadline is not None and now >= deadline:
                log.info("[%s] segment time limit reached at step %d", recipe.key,
                         state.timesteps)
                break
    finally:
        pool.close()
        save()
    info = load_best_info(folder)
    if info is None:
        raise RuntimeError(f"{recipe.key}: training produced no validated checkpoint yet")
    log.info("[%s] at step %d after %.0fs; best validation %.2f at step %s", recipe.key,
             state.timesteps, keeper.elapsed(), info["validation"]["return_mean"],
             info["timesteps"])
    return info
