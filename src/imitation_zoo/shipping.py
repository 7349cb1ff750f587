"""Ship a recipe's best checkpoint to the zoo: copy its weights and write its measured card.

Used by ``python -m imitation_zoo.train`` (``--export-only`` and at the end of a run) and by the
resumable training loops, which ship improvements while they train.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.seeding import EXPERT_SELECTION_SEED_START, expert_eval_seeds
from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
from imitation_datasets.experts.network import ExpertNetwork, sha256_file
from imitation_zoo.checkpoint import (
    BEST_EXPORT,
    DEFAULT_SCRATCH,
    SB3_RNG_NOTE,
    best_matches,
    checkpoint_dir,
    load_best_info,
    load_state_info,
)
from imitation_zoo.measure import NetworkPolicy, measure, measured_level
from imitation_zoo.recipe import (
    CHECKPOINTS_DIR,
    PACKAGE_DIR,
    Recipe,
    evaluate_command,
    train_command,
)

log = logging.getLogger(__name__)


def ship(recipe: Recipe, timesteps: int | None = None, scratch_root: Path = DEFAULT_SCRATCH,
         out_dir: Path = ZOO_DIR, checkpoints_root: Path = CHECKPOINTS_DIR) -> ExpertCard:
    """Export the best checkpoint of ``recipe`` to ``out_dir`` and write its card.

    The checkpoint is read from ``scratch_root/KEY`` (``checkpoints_root/KEY`` for resumable
    recipes). The card's numbers are measured here with ``evaluate_policy`` on
    ``expert_eval_seeds(100)``. The zoo is replaced only once the card is measured (other
    processes may be reading it): weights and card are staged under hidden temporary names
    (never matched by ``*.json``) and renamed, weights first.
    """
    folder = checkpoint_dir(recipe, scratch_root, checkpoints_root)
    info = load_best_info(folder)
    total = int(timesteps or recipe.total_timesteps)
    if info is None or not (folder / BEST_EXPORT).is_file():
        raise FileNotFoundError(f"{folder}: no best checkpoint; train {recipe.key} first")
    if not best_matches(recipe, total, info):
        raise RuntimeError(f"{folder}: the best checkpoint was trained with another recipe")

    training = training_section(recipe, info, folder, timesteps)
    return ship_checkpoint(recipe, folder, info, out_dir, key=recipe.key, target=recipe.target,
                           training=training, aliases=tuple(recipe.aliases),
                           below_target=lambda fields: _below_target_rule(recipe, timesteps,
                                                                          fields))


def ship_checkpoint(recipe: Recipe, folder: Path, info: dict[str, Any], out_dir: Path, *,
                    key: str, target: float, training: dict[str, Any],
                    aliases: tuple[str, ...] = (), level: dict[str, Any] | None = None,
                    below_target: Callable[[dict[str, Any]], str] | None = None
                    ) -> ExpertCard:
    """Ship the export in ``folder`` as ``out_dir/KEY.safetensors`` + its measured card.

    ``info`` is the export's ``best.json``. Measured with ``evaluate_policy`` on
    ``expert_eval_seeds(100)``. ``level`` (a lower-proficiency expert's section) receives the
    measured ``return_mean`` and ``normalised_score``; ``below_target(fields)`` rewrites the
    threshold rule of an expert measured under ``target``.
    """
    from safetensors.numpy import load_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    card_path = out_dir / f"{key}.json"
    weights = out_dir / f"{key}.safetensors"
    low = None if info["action_low"] is None else np.asarray(info["action_low"], np.float32)
    high = None if info["action_high"] is None else np.asarray(info["action_high"], np.float32)
    with atomic_path(card_path) as staged_card, atomic_path(weights) as staged_weights:
        shutil.copyfile(folder / BEST_EXPORT, staged_weights)
        network = ExpertNetwork(info["spec"], load_file(str(staged_weights)), low, high)
        seeds = expert_eval_seeds(100)
        fields = measure(NetworkPolicy(network), recipe.env_id, target,
                         evaluate_command(key), episodes=len(seeds),
                         seed_start=seeds[0], env_kwargs=dict(recipe.env_kwargs))
        returns = fields.pop("returns")
        if fields["quality"] == "below_target" and below_target is not None:
            fields["threshold_rule"] = below_target(fields)
        if level is not None:
            level = measured_level(level, fields["evaluation"].return_mean)
        card = ExpertCard(
            key=key,
            env_id=recipe.env_id,
            algo=recipe.algo,
            network=info["spec"],
            weights_file=weights.name,
            weights_sha256=sha256_file(staged_weights),
            training=training,
            aliases=aliases,
            env_kwargs=dict(recipe.env_kwargs),
            action_low=None if low is None else tuple(float(v) for v in low),
            action_high=None if high is None else tuple(float(v) for v in high),
            target=target,
            level=level,
            **fields,
        )
        card.validate(key)
        card.write(staged_card)

    # The shipped files must load through the public class and act like the measured network.
    expert = CuratedExpert.from_card_file(card_path).load()
    probe = np.random.default_rng(0).normal(size=(64, network.input_dim)).astype(np.float32)
    if not np.array_equal(expert.predict(probe)[0], network(probe)):
        raise RuntimeError(f"{card_path}: the shipped expert does not reproduce the export")
    ev = card.evaluation
    log.info("[%s] card: %.2f ± %.2f over %d episodes (5th percentile %.2f, random %.2f); "
             "threshold %g; target %g: %s -> %s", key, ev.return_mean, ev.return_std,
             ev.episodes, np.percentile(returns, 5), ev.random_return_mean, card.threshold,
             card.target, card.quality, card_path)
    return card


def training_section(recipe: Recipe, info: dict[str, Any], folder: Path,
                     timesteps: int | None = None) -> dict[str, Any]:
    """The card's ``training`` section: the recipe, the run and how the checkpoint was chosen.

    Args:
        recipe: the recipe.
        info: the checkpoint's ``best.json``.
        folder: the checkpoint folder (its ``state.json`` for resumable recipes).
        timesteps: the budget override the run was given.
    """
    total = int(timesteps or recipe.total_timesteps)
    run = dict(info["run"])
    resume: dict[str, Any] = {}
    if recipe.resumable:
        state = load_state_info(folder) or {}
        run["trained_timesteps"] = state.get("timesteps")
        run["wall_time_s"] = state.get("wall_time_s")
        run["stopped_early"] = None
        resume = {
            "checkpoint_folder": f"{PACKAGE_DIR.name}/{CHECKPOINTS_DIR.name}/{recipe.key}",
            "resume_command": train_command(recipe.key, timesteps),
            "n_updates": state.get("n_updates"),
            "best_found_after_wall_time_s": info.get("elapsed_s"),
            "segments": state.get("segments", []),
            "rng": state.get("rng", SB3_RNG_NOTE),
        }
    training = {
        "recipe": run["command"],
        "recipe_file": recipe.path.relative_to(PACKAGE_DIR.parent).as_posix(),
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
            "validation_seed_start": EXPERT_SELECTION_SEED_START,
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
    return training


def _below_target_rule(recipe: Recipe, timesteps: int | None, fields: dict[str, Any]) -> str:
    return (
        f"{fields['threshold_rule']}; BELOW TARGET: the measured mean "
        f"{fields['evaluation'].return_mean:.2f} is under the target {recipe.target:g}, so "
        "the cap does not apply and the threshold is this expert's own 5th percentile: the "
        "Controller keeps about 95% of its episodes and datasets collected with it are "
        "below-target demonstrations (training continues with "
        f"{train_command(recipe.key, timesteps)}, which resumes from the committed state)"
    )


def already_shipped(folder: Path, card_path: Path) -> bool:
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
