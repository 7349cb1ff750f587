"""Train one curated expert from its recipe and ship it to the zoo.

``python -m imitation_datasets.experts.recipes.train KEY [--timesteps N] [--out DIR]``

1. builds the environments (``DummyVecEnv``, optional ``VecNormalize``) and the algorithm from
   ``recipes/KEY.yaml`` with the recipe's seed and one torch thread;
2. every ``eval_freq`` environment steps exports the current policy (checked against SB3's
   ``predict``) and plays ``eval_episodes`` validation episodes on the seeds
   ``VALIDATION_SEED_START + k`` (disjoint from the card's evaluation seeds) with the exported
   NumPy network; the best checkpoint so far (highest validation mean, then lowest std) is kept
   on disk in the scratch folder (``.train/KEY/``: export, SB3 model and ``VecNormalize``
   statistics), so a killed run loses nothing already found; a rerun of the same recipe keeps
   that checkpoint unless it finds a better one (``--fresh`` starts over);
3. exports the best checkpoint to ``OUT/KEY.safetensors`` and writes ``OUT/KEY.json``, measured
   with :func:`imitation_datasets.core.evaluation.evaluate_policy` on ``expert_eval_seeds(100)``.

``--export-only`` skips training and ships the best checkpoint already on disk.

Resumable recipes (``resumable: true``, ARS)
--------------------------------------------
Long trainings span several sessions. For these the checkpoint folder is the committed
``recipes/checkpoints/KEY/`` (``--checkpoints`` to change it) instead of the scratch folder, and
it holds no pickle and no zip:

* ``state.safetensors`` (ARS parameter vector ``weights``; ``obs_mean``, ``obs_var``,
  ``obs_count`` of the observation normalisation) and ``state.json`` (steps done, updates done,
  cumulative wall time, best validation, one entry per training segment), written atomically
  at every validation and at least every ``STATE_SAVE_INTERVAL_S`` seconds;
* ``best.safetensors`` / ``best.json``: the best validated export so far;
* ``progress.csv``: the validation curve over all segments.

``train KEY`` resumes from ``state.*`` when they were written by the same recipe (its digest
ignores ``total_timesteps``, so a budget may be raised later, and the checkpoint-selection
fields ``SELECTION_FIELDS``: changing those re-validates the best checkpoint); ``--fresh``
starts over. On resume every random generator (torch, numpy, the environments) is re-seeded
with ``seed + updates done``, so a resumed run is reproducible from the committed state but
differs from an uninterrupted run. Each improvement is shipped to the zoo (at most once every
``SHIP_INTERVAL_S`` seconds, at once when the validation first reaches the target, and at the
end), so the zoo always holds a measured, honestly labelled best-so-far expert.
``--max-minutes`` ends a segment cleanly (state saved, best shipped).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.experts.curated import ZOO_DIR
from imitation_datasets.experts.network import sha256_file
from imitation_datasets.experts.recipes import (
    CHECKPOINTS_DIR,
    VALIDATION_SEED_START,
    Recipe,
    load_recipe,
    recipe_keys,
)
from imitation_datasets.experts.recipes.ars_training import train_ars
from imitation_datasets.experts.recipes.evaluate import NetworkPolicy
from imitation_datasets.experts.recipes.shipping import ship
from imitation_datasets.experts.recipes.training_state import (
    BEST_EXPORT,
    BEST_INFO,
    DEFAULT_SCRATCH,
    RNG_NOTE,
    STATE_SAVE_INTERVAL_S,
    STATE_TENSORS,
    best_matches,
    checkpoint_dir,
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

ALGORITHMS = {
    "A2C": "stable_baselines3",
    "DDPG": "stable_baselines3",
    "DQN": "stable_baselines3",
    "PPO": "stable_baselines3",
    "SAC": "stable_baselines3",
    "TD3": "stable_baselines3",
    "ARS": "sb3_contrib",
    "QRDQN": "sb3_contrib",
    "TQC": "sb3_contrib",
    "TRPO": "sb3_contrib",
}

SHIP_INTERVAL_S = 600.0
"""Resumable recipes ship an improved best checkpoint to the zoo at most this often."""


class StopTraining(Exception):
    """Raised by the validation callback to end a training segment (ARS ignores ``False``)."""


def algorithm_class(name: str) -> Any:
    """Return the stable-baselines3 / sb3-contrib class called ``name``."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; expected one of {sorted(ALGORITHMS)}")
    return getattr(importlib.import_module(ALGORITHMS[name]), name)


def _value(value: Any) -> Any:
    """Decode rl-zoo conventions: ``"lin_<x>"`` is a linear schedule from ``x`` to 0."""
    if isinstance(value, str) and value.startswith("lin_"):
        from stable_baselines3.common.utils import LinearSchedule

        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    return value


def algorithm_kwargs(recipe: Recipe, action_space: Any = None) -> dict[str, Any]:
    """Keyword arguments of the algorithm built from the recipe's hyperparameters.

    ``action_noise_std: x`` (TD3/DDPG) becomes Gaussian action noise of standard deviation
    ``x`` on every action dimension (rl-baselines3-zoo's ``noise_type: normal``); it needs the
    training env's ``action_space``.
    """
    from torch import nn

    kwargs: dict[str, Any] = {}
    for name, value in recipe.hyperparameters.items():
        if name == "action_noise_std":
            from stable_baselines3.common.noise import NormalActionNoise

            if action_space is None:
                raise ValueError("action_noise_std needs the training env's action space")
            dim = int(np.prod(action_space.shape))
            kwargs["action_noise"] = NormalActionNoise(np.zeros(dim), float(value) * np.ones(dim))
        elif name == "policy_kwargs":
            policy_kwargs = dict(value)
            activation = policy_kwargs.get("activation_fn")
            if activation is not None:
                activations = {"tanh": nn.Tanh, "relu": nn.ReLU}
                if activation not in activations:
                    raise ValueError(f"activation_fn must be one of {sorted(activations)}")
                policy_kwargs["activation_fn"] = activations[activation]
            kwargs[name] = policy_kwargs
        elif name == "train_freq" and isinstance(value, list):
            kwargs[name] = (int(value[0]), str(value[1]))
        else:
            kwargs[name] = _value(value)
    return kwargs


def make_training_env(recipe: Recipe) -> tuple[Any, Any]:
    """Build the training ``VecEnv`` and its ``VecNormalize`` wrapper (or ``None``)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    venv = make_vec_env(recipe.env_id, n_envs=recipe.n_envs, seed=recipe.seed,
                        env_kwargs=dict(recipe.env_kwargs), vec_env_cls=DummyVecEnv)
    if recipe.normalize is None:
        return venv, None
    options = dict(recipe.normalize)
    options.setdefault("gamma", float(recipe.hyperparameters.get("gamma", 0.99)))
    vecnorm = VecNormalize(venv, **options)
    return vecnorm, vecnorm


def save_ars_state(model: Any, vecnorm: Any, folder: Path, info: dict[str, Any]) -> None:
    """Write an ARS model's training state as ``state.safetensors`` + ``state.json`` (atomic)."""
    tensors = {"weights": model.weights.detach().cpu().numpy().astype(np.float32)}
    if vecnorm is not None:
        rms = vecnorm.obs_rms
        tensors["obs_mean"] = np.asarray(rms.mean, dtype=np.float64).reshape(-1)
        tensors["obs_var"] = np.asarray(rms.var, dtype=np.float64).reshape(-1)
        tensors["obs_count"] = np.array([float(rms.count)], dtype=np.float64)
    write_state(folder, tensors, info)


def load_ars_state(model: Any, vecnorm: Any, folder: Path) -> None:
    """Restore what :func:`save_ars_state` wrote into a freshly built ARS model (no pickle)."""
    import torch
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / STATE_TENSORS))
    weights = torch.as_tensor(tensors["weights"], dtype=model.weights.dtype)
    if weights.shape != model.weights.shape:
        raise RuntimeError(f"{folder}: state has {weights.numel()} parameters, the model "
                           f"{model.weights.numel()}")
    model.weights = weights.clone()
    model.policy.load_from_vector(weights.cpu())
    if vecnorm is not None:
        if "obs_mean" not in tensors:
            raise RuntimeError(f"{folder}: state has no observation statistics")
        vecnorm.obs_rms.mean = tensors["obs_mean"].astype(np.float64)
        vecnorm.obs_rms.var = tensors["obs_var"].astype(np.float64)
        vecnorm.obs_rms.count = float(tensors["obs_count"][0])


def _make_callback(recipe: Recipe, scratch: Path, vecnorm: Any, digest: str,
                   best: tuple[float, float], run: dict[str, Any], start_steps: int = 0,
                   elapsed_offset: float = 0.0, on_state: Any = None, on_improve: Any = None,
                   max_seconds: float | None = None) -> Any:
    """Build the callback that validates the exported policy and keeps the best checkpoint.

    ``on_state(callback)`` (resumable recipes) saves the training state; it is called after
    every validation, at least every ``STATE_SAVE_INTERVAL_S`` seconds and before a stop.
    ``on_improve(callback)`` is called after a new best checkpoint was saved. ``max_seconds``
    ends the segment (``StopTraining``) after that much wall time.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    from imitation_datasets.experts.recipes.export import ExportMismatchError, export_sb3

    class ValidationCallback(BaseCallback):
        """Validate every ``eval_freq`` steps; keep the best checkpoint on disk."""

        def __init__(self) -> None:
            super().__init__(verbose=0)
            self.next_eval = start_steps + recipe.eval_freq
            self.last_eval = -1
            self.last_state_save = time.monotonic()
            self.best = best
            self.seeds = recipe.validation_seeds()
            self.started = time.monotonic()
            self.stopped_early = False
            self.progress = scratch / "progress.csv"
            if not self.progress.exists():
                self.progress.write_text(
                    "timesteps,val_mean,val_std,best_mean,elapsed_s,digest\n", encoding="utf-8")

        def _validate(self) -> bool:
            steps = int(self.num_timesteps)
            self.last_eval = steps
            try:
                exported = export_sb3(self.model, vecnorm, check_seed=steps)
            except ExportMismatchError as exc:  # never ship a checkpoint that fails the check
                print(f"[{recipe.key}] step {steps}: export check failed, skipped ({exc})",
                      flush=True)
                return True
            returns = evaluate_policy(NetworkPolicy(exported.network()), recipe.env_id,
                                      self.seeds, env_kwargs=dict(recipe.env_kwargs))
            mean, std = float(np.mean(returns)), float(np.std(returns))
            elapsed = self.elapsed()
            improved = (mean, -std) > (self.best[0], -self.best[1])
            if improved:
                self.best = (mean, std)
                self._save_best(exported, steps, mean, std, elapsed)
            with self.progress.open("a", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerow(
                    [steps, f"{mean:.3f}", f"{std:.3f}", f"{self.best[0]:.3f}",
                     f"{elapsed:.1f}", digest[:12]])
            print(f"[{recipe.key}] step {steps:>9}: validation {mean:9.2f} ± {std:7.2f} "
                  f"(best {self.best[0]:9.2f}){' *' if improved else ''}  {elapsed:7.1f}s",
                  flush=True)
            if improved and on_improve is not None:
                on_improve(self)
            self.save_state()
            if recipe.stop_at is not None and mean >= recipe.stop_at:
                self.stopped_early = True
                print(f"[{recipe.key}] validation reached stop_at={recipe.stop_at}; stopping",
                      flush=True)
                raise StopTraining
            return True

        def elapsed(self) -> float:
            """Wall time of training so far (all segments of a resumable recipe)."""
            return elapsed_offset + time.monotonic() - self.started

        def save_state(self) -> None:
            """Save the resumable training state (no-op for other recipes)."""
            if on_state is not None:
                on_state(self)
                self.last_state_save = time.monotonic()

        def _save_best(self, exported: Any, steps: int, mean: float, std: float,
                       elapsed: float) -> None:
            tmp = scratch / f".{BEST_EXPORT}.tmp"
            exported.save(tmp)
            tmp.replace(scratch / BEST_EXPORT)
            if not recipe.resumable:  # committed checkpoints hold no pickle and no zip
                self.model.save(scratch / "best_model.zip")
                stats = scratch / "best_vecnormalize.pkl"
                if vecnorm is not None:
                    vecnorm.save(str(stats))
                elif stats.exists():  # left by an earlier recipe
                    stats.unlink()
            info = {
                "recipe_digest": digest,
                "selection_digest": selection_digest(recipe),
                "timesteps": steps,
                "validation": {"return_mean": mean, "return_std": std,
                               "episodes": len(self.seeds), "seed_start": VALIDATION_SEED_START},
                "elapsed_s": round(elapsed, 1),
                "spec": exported.spec,
                "action_low": None if exported.action_low is None
                else exported.action_low.tolist(),
                "action_high": None if exported.action_high is None
                else exported.action_high.tolist(),
                "export_check": exported.check,
                "run": run,
            }
            write_json_atomic(scratch / BEST_INFO, info)

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += recipe.eval_freq
                return self._validate()
            if on_state is not None or max_seconds is not None:
                now = time.monotonic()
                if on_state is not None and now - self.last_state_save >= STATE_SAVE_INTERVAL_S:
                    self.save_state()
                if max_seconds is not None and now - self.started >= max_seconds:
                    self.save_state()
                    print(f"[{recipe.key}] segment time limit reached at step "
                          f"{self.num_timesteps}; stopping", flush=True)
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
    previous = None if fresh else load_best_info(scratch)
    if best_matches(recipe, total, previous):
        val = previous["validation"]
        best = (float(val["return_mean"]), float(val["return_std"]))
        print(f"[{recipe.key}] keeping the best checkpoint of an earlier run "
              f"(step {previous['timesteps']}, validation {best[0]:.2f}) unless beaten",
              flush=True)
    else:
        best = (-np.inf, np.inf)
        keep_state = recipe.resumable and not fresh and state_matches(
            recipe, total, load_state_info(scratch))
        if keep_state and previous is not None:
            print(f"[{recipe.key}] checkpoint selection rules changed: the best checkpoint "
                  "will be re-validated; the training state is kept", flush=True)
        clear_checkpoint(scratch, keep_state, progress_only=not recipe.resumable)

    run = {
        "command": train_command(recipe.key, timesteps),
        "total_timesteps": total,
        "library_versions": library_versions(),
        "torch_num_threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    env, vecnorm = make_training_env(recipe)
    model = algorithm_class(recipe.algo)(recipe.policy, env, seed=recipe.seed, device="cpu",
                                         verbose=0,
                                         **algorithm_kwargs(recipe, env.action_space))

    state = None
    start_steps, elapsed_offset, segments = 0, 0.0, []
    if recipe.resumable:
        state = None if fresh else load_state_info(scratch)
        if state is not None and (not state_matches(recipe, total, state)
                                  or not (scratch / STATE_TENSORS).is_file()):
            print(f"[{recipe.key}] training state in {scratch} belongs to another recipe; "
                  "starting over", flush=True)
            state = None
        if state is not None:
            if sha256_file(scratch / STATE_TENSORS) != state.get("state_sha256"):
                print(f"[{recipe.key}] warning: state.safetensors is newer than state.json "
                      "(interrupted save); resuming from the tensors", flush=True)
            load_ars_state(model, vecnorm, scratch)
            start_steps = int(state["timesteps"])
            model.num_timesteps = start_steps
            model._n_updates = int(state["n_updates"])
            elapsed_offset = float(state["wall_time_s"])
            segments = list(state.get("segments", []))
            model.set_random_seed(recipe.seed + model._n_updates)
            print(f"[{recipe.key}] resuming at step {start_steps} (update {model._n_updates}, "
                  f"{elapsed_offset:.0f}s trained so far)", flush=True)
    segment = {"started": run["started"], "from_timesteps": start_steps,
               "seed": recipe.seed + (model._n_updates if state is not None else 0)}
    segment_start = time.monotonic()

    def on_state(callback: Any) -> None:
        segment.update({"to_timesteps": int(model.num_timesteps),
                        "wall_time_s": round(time.monotonic() - segment_start, 1)})
        save_ars_state(model, vecnorm, scratch, {
            "recipe_digest": digest,
            "key": recipe.key,
            "timesteps": int(model.num_timesteps),
            "n_updates": int(model._n_updates),
            "wall_time_s": round(callback.elapsed(), 1),
            "total_timesteps": total,
            "best_validation": {"return_mean": callback.best[0], "return_std": callback.best[1]},
            "rng": RNG_NOTE,
            "segments": [*segments, dict(segment)],
            "library_versions": run["library_versions"],
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        })

    last_ship = [-np.inf, -np.inf]  # time of the last ship, validation mean it shipped

    def on_improve(callback: Any) -> None:
        first_at_target = callback.best[0] >= recipe.target > last_ship[1]
        if ship_to is None or (time.monotonic() - last_ship[0] < SHIP_INTERVAL_S
                               and not first_at_target):
            return
        last_ship[1] = callback.best[0]
        callback.save_state()
        try:
            ship(recipe, timesteps, scratch_root, ship_to, checkpoints_root)
        except Exception as exc:  # shipping must never end a long training
            print(f"[{recipe.key}] shipping failed: {exc!r}", flush=True)
        last_ship[0] = time.monotonic()

    callback = _make_callback(
        recipe, scratch, vecnorm, digest, best, run, start_steps=start_steps,
        elapsed_offset=elapsed_offset, on_state=on_state if recipe.resumable else None,
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
    if not best_matches(recipe, total, info):
        raise RuntimeError(f"{recipe.key}: training produced no valid checkpoint")
    if info["run"].get("started") == run["started"] and not recipe.resumable:
        info["run"].update({"wall_time_s": round(wall, 1), "trained_timesteps":
                            int(model.num_timesteps), "stopped_early": callback.stopped_early})
        write_json_atomic(scratch / BEST_INFO, info)
    print(f"[{recipe.key}] trained {model.num_timesteps - start_steps} steps in {wall:.0f}s "
          f"(total {model.num_timesteps}); best validation "
          f"{info['validation']['return_mean']:.2f} at step {info['timesteps']}", flush=True)
    return info


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m imitation_datasets.experts.recipes.train",
        description="Train a curated expert from its recipe and ship it to the zoo.",
    )
    parser.add_argument("key", choices=recipe_keys(), help="recipe to train")
    parser.add_argument("--timesteps", type=int, default=None,
                        help="override the recipe's total_timesteps")
    parser.add_argument("--out", type=Path, default=ZOO_DIR,
                        help="folder receiving KEY.safetensors and KEY.json (default: the zoo)")
    parser.add_argument("--scratch", type=Path, default=DEFAULT_SCRATCH,
                        help="scratch root for checkpoints (default: ./.train)")
    parser.add_argument("--fresh", action="store_true",
                        help="ignore a best checkpoint left by an earlier run")
    parser.add_argument("--export-only", action="store_true",
                        help="skip training; ship the best checkpoint already in the scratch")
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS_DIR,
                        help="root of the committed checkpoints of resumable recipes")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="end this training segment after that many minutes (resumable)")
    parser.add_argument("--workers", type=int, default=None,
                        help="ARS-numpy recipes: processes playing episodes (default: all CPUs;"
                             " results do not depend on it)")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.key)
    folder = checkpoint_dir(recipe, args.scratch, args.checkpoints)
    if not args.export_only:
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            if recipe.algo == "ARS-numpy":
                train_ars(recipe, args.timesteps, fresh=args.fresh,
                          checkpoints_root=args.checkpoints, max_minutes=args.max_minutes,
                          ship_to=args.out, workers=args.workers)
            else:
                train(recipe, args.timesteps, args.scratch, fresh=args.fresh,
                      checkpoints_root=args.checkpoints, max_minutes=args.max_minutes,
                      ship_to=args.out if recipe.resumable else None)
        except KeyboardInterrupt:
            print(f"[{recipe.key}] interrupted; the best checkpoint so far is in {folder} "
                  "(ship it with --export-only)", file=sys.stderr)
            return 130
    if recipe.resumable and _already_shipped(folder, args.out / f"{recipe.key}.json"):
        print(f"[{recipe.key}] the zoo already holds the best checkpoint", flush=True)
        return 0
    ship(recipe, args.timesteps, args.scratch, args.out, args.checkpoints)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt so resumable training saves its state."""
    raise KeyboardInterrupt


def _already_shipped(folder: Path, card_path: Path) -> bool:
    """Whether the card at ``card_path`` ships the best checkpoint in ``folder`` (same bytes)."""
    best = folder / BEST_EXPORT
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    state = load_state_info(folder) or {}
    return (best.is_file() and card.get("weights_sha256") == sha256_file(best)
            and card.get("training", {}).get("resumable", {}).get("n_updates")
            == state.get("n_updates"))


if __name__ == "__main__":
    raise SystemExit(main())
