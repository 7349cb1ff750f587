"""Training loop of ``algo: ARS-numpy`` recipes: validation, checkpoints, resume, shipping.

Same folder layout and selection rule as the stable-baselines3 recipes (see ``train.py``; the
files are written and matched by ``training_state.py``): ``checkpoints/KEY/`` holds
``state.safetensors`` + ``state.json`` (the whole training state), ``best.safetensors`` +
``best.json`` (best validated export) and ``progress.csv``. The state is saved after every
validation, at least every ``STATE_SAVE_INTERVAL_S`` seconds and when a segment ends
(``--max-minutes``, Ctrl-C, SIGTERM), so a killed run loses at most that much.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.experts.network import ExpertNetwork
from imitation_datasets.experts.recipes import CHECKPOINTS_DIR, VALIDATION_SEED_START, Recipe
from imitation_datasets.experts.recipes.ars import (
    ARSConfig,
    ARSState,
    Layout,
    ObsStats,
    Pool,
    network_spec,
    update,
)
from imitation_datasets.experts.recipes.evaluate import NetworkPolicy
from imitation_datasets.experts.recipes.export import check_observations
from imitation_datasets.experts.recipes.shipping import ship
from imitation_datasets.experts.recipes.training_state import (
    BEST_EXPORT,
    BEST_INFO,
    STATE_SAVE_INTERVAL_S,
    STATE_TENSORS,
    best_matches,
    clear_checkpoint,
    library_versions,
    load_best_info,
    load_state_info,
    selection_digest,
    state_matches,
    train_command,
    training_digest,
    write_json_atomic,
    write_state,
)

ALGO = "ARS-numpy"
RNG_NOTE = ("update u draws its directions and reset seeds from numpy.random.default_rng("
            "[seed, u]); a resumed run is identical to an uninterrupted one, for any number of "
            "workers")
PROGRESS_HEADER = "timesteps,val_mean,val_std,best_mean,elapsed_s,digest\n"


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
            reaches the target and when the segment ends (``None``: do not ship).
        workers: processes playing episodes (default: every CPU); does not change results.
    """
    from imitation_datasets.core.rollout import make_env

    total = int(timesteps or recipe.total_timesteps)
    digest = training_digest(recipe, total)
    folder = Path(checkpoints_root) / recipe.key
    folder.mkdir(parents=True, exist_ok=True)
    config = ARSConfig.from_recipe(recipe.hyperparameters)
    normalize = bool((recipe.normalize or {}).get("norm_obs", False))
    spec = network_spec(normalize, config.net_arch)
    env = make_env(recipe.env_id, dict(recipe.env_kwargs))
    low = env.action_space.low.astype(np.float64)
    high = env.action_space.high.astype(np.float64)
    layout = Layout(int(np.prod(env.observation_space.shape)),
                    int(np.prod(env.action_space.shape)), config.net_arch)
    observation_space = env.observation_space
    env.close()

    previous = None if fresh else load_best_info(folder)
    state_info = None if fresh else load_state_info(folder)
    keep_state = (state_info is not None and state_matches(recipe, total, state_info)
                  and (folder / STATE_TENSORS).is_file())
    keep_best = keep_state and best_matches(recipe, total, previous)
    if not keep_best:
        clear_checkpoint(folder, keep_state)
    if keep_state:
        state = _load_state(folder, state_info, layout, normalize)
        segments = list(state_info.get("segments", []))
        elapsed_offset = float(state_info.get("wall_time_s", 0.0))
        print(f"[{recipe.key}] resuming at step {state.timesteps} (update {state.updates}, "
              f"{elapsed_offset:.0f}s trained so far)", flush=True)
    else:
        state = ARSState(layout.initial(recipe.seed), ObsStats.initial(layout.obs_dim),
                         normalize=normalize, layout=layout)
        segments, elapsed_offset = [], 0.0
    best = ((float(previous["validation"]["return_mean"]),
             float(previous["validation"]["return_std"])) if keep_best else (-np.inf, np.inf))
    run = {"command": train_command(recipe.key, timesteps), "total_timesteps": total,
           "library_versions": library_versions(), "torch_num_threads": None,
           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    pool = Pool(workers or os.cpu_count() or 1)
    segment = {"started": run["started"], "from_timesteps": state.timesteps,
               "workers": pool.workers}
    started = time.monotonic()
    progress = folder / "progress.csv"
    if not progress.exists():
        progress.write_text(PROGRESS_HEADER, encoding="utf-8")
    seeds = recipe.validation_seeds()
    shipped_at_target = best[0] >= recipe.target

    def elapsed() -> float:
        return elapsed_offset + time.monotonic() - started

    def save() -> None:
        segment.update({"to_timesteps": state.timesteps,
                        "wall_time_s": round(time.monotonic() - started, 1)})
        _save_state(folder, state, {
            "recipe_digest": digest, "key": recipe.key, "algo": ALGO,
            "wall_time_s": round(elapsed(), 1), "total_timesteps": total,
            "best_validation": {"return_mean": best[0], "return_std": best[1]},
            "rng": RNG_NOTE, "segments": [*segments, dict(segment)],
            "library_versions": run["library_versions"],
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z")})

    def validate() -> bool:
        nonlocal best
        tensors = state.export()
        network = ExpertNetwork(spec, tensors, low.astype(np.float32),
                                high.astype(np.float32))
        probe = check_observations(observation_space, 1000, seed=state.timesteps)
        diff = float(np.max(np.abs(network(probe) - state.act(probe.astype(np.float64), low,
                                                                 high))))
        returns = evaluate_policy(NetworkPolicy(network), recipe.env_id, seeds,
                                  env_kwargs=dict(recipe.env_kwargs))
        mean, std = float(np.mean(returns)), float(np.std(returns))
        improved = (mean, -std) > (best[0], -best[1])
        if improved:
            best = (mean, std)
            from safetensors.numpy import save_file

            tmp = folder / f".{BEST_EXPORT}.tmp"
            save_file({k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())}, str(tmp))
            tmp.replace(folder / BEST_EXPORT)
            write_json_atomic(folder / BEST_INFO, {
                "recipe_digest": digest, "selection_digest": selection_digest(recipe),
                "timesteps": state.timesteps,
                "validation": {"return_mean": mean, "return_std": std, "episodes": len(seeds),
                               "seed_start": VALIDATION_SEED_START},
                "elapsed_s": round(elapsed(), 1), "spec": spec,
                "action_low": low.tolist(), "action_high": high.tolist(),
                "export_check": {"observations": len(probe), "max_abs_diff": diff},
                "run": run})
        with progress.open("a", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerow([state.timesteps, f"{mean:.3f}", f"{std:.3f}",
                                         f"{best[0]:.3f}", f"{elapsed():.1f}", digest[:12]])
        print(f"[{recipe.key}] step {state.timesteps:>9}: validation {mean:9.2f} ± {std:7.2f} "
              f"(best {best[0]:9.2f}){' *' if improved else ''}  {elapsed():7.1f}s", flush=True)
        return improved

    next_eval = (state.timesteps // recipe.eval_freq + 1) * recipe.eval_freq
    last_save = time.monotonic()
    deadline = None if max_minutes is None else started + 60.0 * max_minutes
    try:
        while state.timesteps < total:
            update(state, config, recipe.seed, pool, recipe.env_id, dict(recipe.env_kwargs))
            now = time.monotonic()
            if state.timesteps >= next_eval or state.timesteps >= total:
                next_eval = (state.timesteps // recipe.eval_freq + 1) * recipe.eval_freq
                validate()
                save()
                last_save = now
                if ship_to is not None and not shipped_at_target and best[0] >= recipe.target:
                    shipped_at_target = True
                    ship(recipe, timesteps, out_dir=ship_to, checkpoints_root=checkpoints_root)
                if recipe.stop_at is not None and best[0] >= recipe.stop_at:
                    print(f"[{recipe.key}] validation reached stop_at={recipe.stop_at}; "
                          "stopping", flush=True)
                    break
            elif now - last_save >= STATE_SAVE_INTERVAL_S:
                save()
                last_save = now
            if deadline is not None and now >= deadline:
                print(f"[{recipe.key}] segment time limit reached at step {state.timesteps}",
                      flush=True)
                break
    finally:
        pool.close()
        save()
    info = load_best_info(folder)
    if info is None:
        raise RuntimeError(f"{recipe.key}: training produced no validated checkpoint yet")
    print(f"[{recipe.key}] at step {state.timesteps} after {elapsed():.0f}s; best validation "
          f"{info['validation']['return_mean']:.2f} at step {info['timesteps']}", flush=True)
    return info

