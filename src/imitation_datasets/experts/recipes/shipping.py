"""Ship a recipe's best checkpoint to the zoo: copy its weights and write its measured card.

Used by ``python -m imitation_datasets.experts.recipes.train`` (``--export-only`` and at the end of
a run) and by the resumable training loops, which ship improvements while they train.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.seeding import expert_eval_seeds
from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
from imitation_datasets.experts.network import ExpertNetwork, sha256_file
from imitation_datasets.experts.recipes import CHECKPOINTS_DIR, VALIDATION_SEED_START, Recipe
from imitation_datasets.experts.recipes.evaluate import NetworkPolicy, evaluate_command, measure
from imitation_datasets.experts.recipes.training_state import (
    BEST_EXPORT,
    DEFAULT_SCRATCH,
    RNG_NOTE,
    best_matches,
    checkpoint_dir,
    load_best_info,
    load_state_info,
    train_command,
)


def ship(recipe: Recipe, timesteps: int | None = None, scratch_root: Path = DEFAULT_SCRATCH,
         out_dir: Path = ZOO_DIR, checkpoints_root: Path = CHECKPOINTS_DIR) -> ExpertCard:
    """Export the best checkpoint of ``recipe`` to ``out_dir`` and write its card.

    The checkpoint is read from ``scratch_root/KEY`` (``checkpoints_root/KEY`` for resumable
    recipes). The card's numbers are measured here with ``evaluate_policy`` on
    ``expert_eval_seeds(100)``.
    """
    from safetensors.numpy import load_file

    scratch = checkpoint_dir(recipe, scratch_root, checkpoints_root)
    info = load_best_info(scratch)
    total = int(timesteps or recipe.total_timesteps)
    if info is None or not (scratch / BEST_EXPORT).is_file():
        raise FileNotFoundError(f"{scratch}: no best checkpoint; train {recipe.key} first")
    if not best_matches(recipe, total, info):
        raise RuntimeError(f"{scratch}: the best checkpoint was trained with another recipe")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{recipe.key}.safetensors"
    # The zoo is replaced only once the card is measured (other processes may be reading it):
    # weights and card are staged under dot-names (never matched by ``*.json``) and renamed.
    staged_weights = out_dir / f".{recipe.key}.safetensors.tmp"
    shutil.copyfile(scratch / BEST_EXPORT, staged_weights)
    low = None if info["action_low"] is None else np.asarray(info["action_low"], np.float32)
    high = None if info["action_high"] is None else np.asarray(info["action_high"], np.float32)
    network = ExpertNetwork(info["spec"], load_file(str(staged_weights)), low, high)

    seeds = expert_eval_seeds(100)
    fields = measure(NetworkPolicy(network), recipe.env_id, recipe.target,
                     evaluate_command(recipe.key), episodes=len(seeds), seed_start=seeds[0],
                     env_kwargs=dict(recipe.env_kwargs))
    returns = fields.pop("returns")
    run = dict(info["run"])
    resume: dict[str, Any] = {}
    if recipe.resumable:
        state = load_state_info(scratch) or {}
        run["trained_timesteps"] = state.get("timesteps")
        run["wall_time_s"] = state.get("wall_time_s")
        run["stopped_early"] = None
        resume = {
            "checkpoint_folder": f"imitation_datasets/experts/recipes/checkpoints/{recipe.key}",
            "resume_command": train_command(recipe.key, timesteps),
            "n_updates": state.get("n_updates"),
            "best_found_after_wall_time_s": info.get("elapsed_s"),
            "segments": state.get("segments", []),
            "rng": state.get("rng", RNG_NOTE),
        }
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
    if resume:
        training["total_timesteps"] = max(total, int(run["trained_timesteps"] or 0))
        training["resumable"] = resume
    if fields["quality"] == "below_target":
        fields["threshold_rule"] = (
            f"{fields['threshold_rule']}; BELOW TARGET: the measured mean "
            f"{fields['evaluation'].return_mean:.2f} is under the target {recipe.target:g}, so "
            "the cap does not apply and the threshold is this expert's own 5th percentile: the "
            "Controller keeps about 95% of its episodes and datasets collected with it are "
            "below-target demonstrations (training continues with "
            f"{train_command(recipe.key, timesteps)}, which resumes from the committed state)"
        )
    card = ExpertCard(
        name=recipe.key,
        env_id=recipe.env_id,
        algo=recipe.algo,
        network=info["spec"],
        weights_file=weights.name,
        weights_sha256=sha256_file(staged_weights),
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
    staged_card = out_dir / f".{recipe.key}.json.tmp"
    card.write(staged_card)
    staged_weights.replace(weights)
    staged_card.replace(card_path)

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
