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
   with :func:`imitation_datasets.evaluation.evaluate_policy` on ``expert_eval_seeds(100)``.

``--export-only`` skips training and ships the best checkpoint already on disk.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import platform
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.evaluation import evaluate_policy
from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
from imitation_datasets.experts.network import ExpertNetwork, sha256_file
from imitation_datasets.experts.recipes import (
    VALIDATION_SEED_START,
    Recipe,
    load_recipe,
    recipe_keys,
)
from imitation_datasets.experts.recipes.evaluate import NetworkPolicy, evaluate_command, measure
from imitation_datasets.seeding import expert_eval_seeds

DEFAULT_SCRATCH = Path(".train")
"""Scratch root (relative to the working directory); git-ignored in the repository."""

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

BEST_EXPORT = "best.safetensors"
BEST_INFO = "best.json"


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


def algorithm_kwargs(recipe: Recipe) -> dict[str, Any]:
    """Keyword arguments of the algorithm built from the recipe's hyperparameters."""
    from torch import nn

    kwargs: dict[str, Any] = {}
    for name, value in recipe.hyperparameters.items():
        if name == "policy_kwargs":
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


def _load_best_info(scratch: Path) -> dict[str, Any] | None:
    path = scratch / BEST_INFO
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def _make_callback(recipe: Recipe, scratch: Path, vecnorm: Any, digest: str,
                   best: tuple[float, float], run: dict[str, Any]) -> Any:
    """Build the callback that validates the exported policy and keeps the best checkpoint."""
    from stable_baselines3.common.callbacks import BaseCallback

    from imitation_datasets.experts.recipes.export import ExportMismatchError, export_sb3

    class ValidationCallback(BaseCallback):
        """Validate every ``eval_freq`` steps; keep the best checkpoint on disk."""

        def __init__(self) -> None:
            super().__init__(verbose=0)
            self.next_eval = recipe.eval_freq
            self.last_eval = -1
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
            elapsed = time.monotonic() - self.started
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
            if recipe.stop_at is not None and mean >= recipe.stop_at:
                self.stopped_early = True
                print(f"[{recipe.key}] validation reached stop_at={recipe.stop_at}; stopping",
                      flush=True)
                return False
            return True

        def _save_best(self, exported: Any, steps: int, mean: float, std: float,
                       elapsed: float) -> None:
            tmp = scratch / f".{BEST_EXPORT}.tmp"
            exported.save(tmp)
            tmp.replace(scratch / BEST_EXPORT)
            self.model.save(scratch / "best_model.zip")
            stats = scratch / "best_vecnormalize.pkl"
            if vecnorm is not None:
                vecnorm.save(str(stats))
            elif stats.exists():  # left by an earlier recipe
                stats.unlink()
            info = {
                "recipe_digest": digest,
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
            _write_json_atomic(scratch / BEST_INFO, info)

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                while self.next_eval <= self.num_timesteps:
                    self.next_eval += recipe.eval_freq
                return self._validate()
            return True

        def _on_training_end(self) -> None:
            if self.last_eval != self.num_timesteps and not self.stopped_early:
                self._validate()

    return ValidationCallback()


def train(recipe: Recipe, timesteps: int | None = None, scratch_root: Path = DEFAULT_SCRATCH,
          fresh: bool = False) -> dict[str, Any]:
    """Train ``recipe`` and keep its best validated checkpoint in ``scratch_root/KEY``.

    Args:
        recipe: the expert's recipe.
        timesteps: override of ``recipe.total_timesteps``.
        scratch_root: folder of the scratch directories.
        fresh: forget a best checkpoint left by an earlier run of the same recipe.

    Returns:
        The contents of ``best.json`` after training.
    """
    import torch

    torch.set_num_threads(1)
    total = int(timesteps or recipe.total_timesteps)
    digest = recipe.digest(total)
    scratch = Path(scratch_root) / recipe.key
    scratch.mkdir(parents=True, exist_ok=True)
    previous = None if fresh else _load_best_info(scratch)
    if previous is not None and previous.get("recipe_digest") == digest:
        val = previous["validation"]
        best = (float(val["return_mean"]), float(val["return_std"]))
        print(f"[{recipe.key}] keeping the best checkpoint of an earlier run "
              f"(step {previous['timesteps']}, validation {best[0]:.2f}) unless beaten",
              flush=True)
    else:
        best = (-np.inf, np.inf)
        if (scratch / "progress.csv").exists():
            (scratch / "progress.csv").unlink()

    run = {
        "command": train_command(recipe.key, timesteps),
        "total_timesteps": total,
        "library_versions": library_versions(),
        "torch_num_threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    env, vecnorm = make_training_env(recipe)
    model = algorithm_class(recipe.algo)(recipe.policy, env, seed=recipe.seed, device="cpu",
                                         verbose=0, **algorithm_kwargs(recipe))
    callback = _make_callback(recipe, scratch, vecnorm, digest, best, run)
    started = time.monotonic()
    model.learn(total_timesteps=total, callback=callback)
    wall = time.monotonic() - started
    env.close()

    info = _load_best_info(scratch)
    if info is None or info.get("recipe_digest") != digest:
        raise RuntimeError(f"{recipe.key}: training produced no valid checkpoint")
    if info["run"].get("started") == run["started"]:
        info["run"].update({"wall_time_s": round(wall, 1), "trained_timesteps":
                            int(model.num_timesteps), "stopped_early": callback.stopped_early})
        _write_json_atomic(scratch / BEST_INFO, info)
    print(f"[{recipe.key}] trained {model.num_timesteps} steps in {wall:.0f}s; best validation "
          f"{info['validation']['return_mean']:.2f} at step {info['timesteps']}", flush=True)
    return info


def ship(recipe: Recipe, timesteps: int | None = None, scratch_root: Path = DEFAULT_SCRATCH,
         out_dir: Path = ZOO_DIR) -> ExpertCard:
    """Export the best checkpoint in ``scratch_root/KEY`` to ``out_dir`` and write its card.

    The card's numbers are measured here with ``evaluate_policy`` on ``expert_eval_seeds(100)``.
    """
    from safetensors.numpy import load_file

    scratch = Path(scratch_root) / recipe.key
    info = _load_best_info(scratch)
    total = int(timesteps or recipe.total_timesteps)
    if info is None or not (scratch / BEST_EXPORT).is_file():
        raise FileNotFoundError(f"{scratch}: no best checkpoint; train {recipe.key} first")
    if info.get("recipe_digest") != recipe.digest(total):
        raise RuntimeError(f"{scratch}: the best checkpoint was trained with another recipe")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{recipe.key}.safetensors"
    shutil.copyfile(scratch / BEST_EXPORT, weights)
    low = None if info["action_low"] is None else np.asarray(info["action_low"], np.float32)
    high = None if info["action_high"] is None else np.asarray(info["action_high"], np.float32)
    network = ExpertNetwork(info["spec"], load_file(str(weights)), low, high)

    seeds = expert_eval_seeds(100)
    fields = measure(NetworkPolicy(network), recipe.env_id, recipe.target,
                     evaluate_command(recipe.key), episodes=len(seeds), seed_start=seeds[0],
                     env_kwargs=dict(recipe.env_kwargs))
    returns = fields.pop("returns")
    run = info["run"]
    training = {
        "recipe": run["command"],
        "recipe_file": f"imitation_datasets/experts/recipes/{recipe.key}.yaml",
        "recipe_sha256": info["recipe_digest"],
        "algo": recipe.algo,
        "policy": recipe.policy,
        "n_envs": recipe.n_envs,
        "seed": recipe.seed,
        "timesteps": int(info["timesteps"]),
        "total_timesteps": total,
        "trained_timesteps": run.get("trained_timesteps"),
        "stopped_early": run.get("stopped_early"),
        "hyperparameters": recipe.hyperparameters,
        "hyperparameters_source": recipe.source,
        "normalize": recipe.normalize,
        "selection": {
            "rule": "checkpoint with the highest validation mean return (then lowest std), "
                    "validated every eval_freq steps with the exported network",
            "eval_freq": recipe.eval_freq,
            "validation_seed_start": VALIDATION_SEED_START,
            "validation_episodes": recipe.eval_episodes,
            "validation_return_mean": info["validation"]["return_mean"],
            "validation_return_std": info["validation"]["return_std"],
        },
        "export_check": info["export_check"],
        "wall_time_s": run.get("wall_time_s"),
        "torch_num_threads": run.get("torch_num_threads"),
        "library_versions": run["library_versions"],
    }
    card = ExpertCard(
        name=recipe.key,
        env_id=recipe.env_id,
        algo=recipe.algo,
        network=info["spec"],
        weights_file=weights.name,
        weights_sha256=sha256_file(weights),
        training=training,
        aliases=tuple(recipe.aliases),
        env_kwargs=dict(recipe.env_kwargs),
        action_low=None if low is None else tuple(float(v) for v in low),
        action_high=None if high is None else tuple(float(v) for v in high),
        target=recipe.target,
        **fields,
    )
    card.validate(recipe.key)
    card_path = out_dir / f"{recipe.key}.json"
    card.write(card_path)

    # The shipped files must load through the public class and act like the measured network.
    expert = CuratedExpert.from_card_file(card_path).load()
    probe = np.random.default_rng(0).normal(size=(64, network.input_dim)).astype(np.float32)
    if not np.array_equal(expert.predict(probe)[0], network(probe)):
        raise RuntimeError(f"{card_path}: the shipped expert does not reproduce the export")
    ev = card.evaluation
    print(f"[{recipe.key}] card: {ev.return_mean:.2f} ± {ev.return_std:.2f} over {ev.episodes} "
          f"episodes (5th percentile {np.percentile(returns, 5):.2f}, random "
          f"{ev.random_return_mean:.2f}); threshold {card.threshold:g}; target {card.target:g}: "
          f"{card.quality} -> {card_path}", flush=True)
    return card


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
    args = parser.parse_args(argv)
    recipe = load_recipe(args.key)
    if not args.export_only:
        try:
            train(recipe, args.timesteps, args.scratch, fresh=args.fresh)
        except KeyboardInterrupt:
            print(f"[{recipe.key}] interrupted; the best checkpoint so far is in "
                  f"{args.scratch / recipe.key} (ship it with --export-only)", file=sys.stderr)
            return 130
    ship(recipe, args.timesteps, args.scratch, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
