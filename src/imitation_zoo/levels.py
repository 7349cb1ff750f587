"""Lower-proficiency experts: intermediate checkpoints of a curated expert's own recipe.

``python -m imitation_zoo.levels KEY [--level medium] [--eval-every N] [--out DIR]``

Trains the curated expert ``KEY``'s recipe again (same algorithm, hyperparameters and seed, one
torch thread; in the benchmark cells' environment with a correctly rounded Adam, so the same
checkpoint on every CPU, where the curated experts were trained with torch's Adam), validates
the exported policy every ``eval_every`` steps on the recipe's validation seeds and keeps the
checkpoint chosen by :data:`LEVEL_RULE` (written before any level was trained); it is then
shipped like a curated expert (safetensors + JSON card, measured on the card's evaluation
seeds) to ``experts/zoo/levels/KEY-LEVEL.*``, with a ``level`` section
giving the curated expert's and the random policy's returns and the measured normalised score.

Only stable-baselines3 recipes that are not resumable are supported (the classic-control and
Box2D experts); the resumable ARS recipes keep no intermediate checkpoints and train for hours.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.reproducible import call_in_cell_process
from imitation_datasets.core.config import option
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.extras import MissingExtraError, require_env_extra, require_extra
from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import LEVELS_DIR, ZOO_DIR, level_key
from imitation_zoo.checkpoint import (
    BEST_EXPORT,
    BEST_INFO,
    DEFAULT_SCRATCH,
    PROGRESS,
    load_best_info,
    training_digest,
    training_versions,
)
from imitation_zoo.command import check_positive, check_recipe_key, parse_options
from imitation_zoo.measure import normalised_score
from imitation_zoo.recipe import Recipe, load_recipe
from imitation_zoo.sb3_setup import build_model, exact_optimizers, make_training_env
from imitation_zoo.sb3_training import validation_callback
from imitation_zoo.selection import NO_BEST, BestCheckpoint, StopTraining
from imitation_zoo.shipping import ship_checkpoint, training_section

log = logging.getLogger(__name__)

LEVELS_MODULE = "imitation_zoo.levels"


@dataclass(frozen=True)
class Level:
    """A proficiency band in normalised score ``(R - R_random) / (R_expert - R_random)``."""

    name: str
    low: float
    high: float
    aim: float


LEVELS = {"medium": Level("medium", 1.0 / 3.0, 2.0 / 3.0, 0.5)}
"""The shipped levels (D4RL's "medium": a policy part-way through the expert's training)."""

LEVEL_RULE = (
    "train the curated expert's recipe again (same seed and hyperparameters) and validate the "
    "exported policy every eval_every steps on the recipe's validation seeds; score each "
    "validation s = (R - R_random) / (R_expert - R_random), R_expert and R_random being the "
    "curated expert's card (evaluation seeds); stop at the first validation with s > high (or "
    "at the recipe's budget); keep the validated checkpoint with low <= s <= high closest to "
    "aim (the earliest on ties), or, when no validation fell in the band, the one closest to aim"
)
"""How a level's checkpoint is chosen (fixed before any level was trained)."""

EVAL_EVERY_DIVISOR = 5
"""Levels validate ``EVAL_EVERY_DIVISOR`` times as often as the recipe (``eval_freq // 5``)."""


def level_command(key: str, level: str, eval_every: int | None = None) -> str:
    """Shell command that trains and ships a level, as recorded in its card."""
    command = f"python -m {LEVELS_MODULE} {key} --level {level}"
    return command if eval_every is None else f"{command} --eval-every {int(eval_every)}"


@dataclass(frozen=True)
class References:
    """The curated expert's and the random policy's mean returns (its card's evaluation)."""

    expert: float
    random: float

    @classmethod
    def of(cls, card: ExpertCard) -> References:
        """The references recorded in a curated expert's card."""
        return cls(card.evaluation.return_mean, card.evaluation.random_return_mean)

    def score(self, value: float) -> float:
        """Normalised score of a return (0: random policy, 1: curated expert)."""
        if not math.isfinite(value):
            return -math.inf
        return normalised_score(value, self.random, self.expert)

    def return_at(self, score: float) -> float:
        """The return whose normalised score is ``score``."""
        return self.random + score * (self.expert - self.random)


class LevelCheckpoint(BestCheckpoint):
    """Keep the validated checkpoint that :data:`LEVEL_RULE` selects; stop above the band."""

    def __init__(self, *args: Any, level: Level, references: References, **kwargs: Any
                 ) -> None:
        super().__init__(*args, **kwargs)
        self.level = level
        self.references = references

    def distance(self, mean: float) -> tuple[bool, float]:
        """Sort key of a validation mean: in the band first, then closest to the aim."""
        score = self.references.score(mean)
        inside = self.level.low <= score <= self.level.high
        return (not inside, abs(score - self.level.aim))

    def better(self, mean: float, std: float) -> bool:
        """Strictly closer by :meth:`distance` (the earliest checkpoint wins ties)."""
        return self.distance(mean) < self.distance(self.best[0])

    def stop_reached(self, value: float) -> bool:
        """Training stops once a validation scores above the band."""
        if self.references.score(value) <= self.level.high:
            return False
        log.info("[%s] validation %.2f scores above %.3f; stopping", self.recipe.key, value,
                 self.level.high)
        return True


def train_level(recipe: Recipe, level: Level, references: References, eval_every: int,
                scratch: Path) -> dict[str, Any]:
    """Train ``recipe`` until :data:`LEVEL_RULE` has chosen a checkpoint; return its ``best.json``.

    Run by :func:`main` in a process started with the benchmark cells' environment, with
    :class:`~imitation_datasets.methods.exact.Adam` for SB3's optimisers: the same bits on every
    CPU (:mod:`imitation_datasets.benchmark.reproducible`).

    The chosen export lies in ``scratch`` as ``best.safetensors`` + ``best.json`` (the format of
    :mod:`imitation_zoo.selection`), with ``progress.csv`` holding every validation.
    """
    import torch

    torch.set_num_threads(1)
    scratch.mkdir(parents=True, exist_ok=True)
    for name in (BEST_EXPORT, BEST_INFO, PROGRESS):  # a level run always starts from scratch
        (scratch / name).unlink(missing_ok=True)
    total = int(recipe.total_timesteps)
    run = {
        "command": level_command(recipe.key, level.name, eval_every),
        "total_timesteps": total,
        "library_versions": training_versions(),
        "torch_num_threads": torch.get_num_threads(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    validated = dataclasses.replace(recipe, eval_freq=int(eval_every))
    keeper = LevelCheckpoint(validated, scratch, training_digest(recipe, total), run, NO_BEST,
                             level=level, references=references)
    env, vecnorm = make_training_env(recipe)
    model = build_model(recipe, env)
    exact_optimizers(model)
    callback = validation_callback(keeper, vecnorm)
    started = time.monotonic()
    with contextlib.suppress(StopTraining):
        model.learn(total_timesteps=total, callback=callback)
    env.close()
    info = load_best_info(scratch)
    if info is None:
        raise RuntimeError(f"{recipe.key}: training produced no valid checkpoint")
    info["run"].update({"wall_time_s": round(time.monotonic() - started, 1),
                        "trained_timesteps": int(model.num_timesteps),
                        "stopped_early": callback.stopped_early})
    return info


def level_section(level: Level, references: References, expert_key: str, info: dict[str, Any],
                  eval_every: int) -> dict[str, Any]:
    """The level card's ``level`` section (the measured score is added when shipping)."""
    validation = float(info["validation"]["return_mean"])
    score = references.score(validation)
    return {
        "name": level.name,
        "expert": expert_key,
        "expert_return_mean": references.expert,
        "random_return_mean": references.random,
        "band": [level.low, level.high],
        "aim": level.aim,
        "rule": LEVEL_RULE,
        "eval_every": int(eval_every),
        "checkpoint_timesteps": int(info["timesteps"]),
        "validation_return_mean": validation,
        "validation_normalised_score": score,
        "validation_in_band": bool(level.low <= score <= level.high),
    }


@dataclass(frozen=True)
class LevelOptions:
    """What ``python -m imitation_zoo.levels`` trains and where it writes (its arguments)."""

    key: str = dataclasses.field(metadata={"help": "curated expert whose recipe is trained"})
    level: str = option("medium", f"proficiency level ({', '.join(LEVELS)})")
    eval_every: int | None = option(None, "validate every N environment steps (default: the "
                                          f"recipe's eval_freq // {EVAL_EVERY_DIVISOR})")
    out: Path = option(LEVELS_DIR, "folder receiving KEY-LEVEL.safetensors and KEY-LEVEL.json")
    scratch: Path = option(DEFAULT_SCRATCH / "levels", "scratch root of the level checkpoints")
    zoo: Path = option(ZOO_DIR, "folder of the curated experts' cards (the references)")
    export_only: bool = option(False, "skip training; ship the checkpoint already in scratch")

    def __post_init__(self) -> None:
        check_recipe_key(self.key)
        if self.level not in LEVELS:
            raise ConfigError(f"unknown level {self.level!r}; known: {', '.join(LEVELS)}")
        check_positive(self, ("eval_every",))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    args, parser = parse_options(LevelOptions, argv, f"python -m {LEVELS_MODULE}",
                                 "Train and ship a lower-proficiency checkpoint of a curated "
                                 "expert's recipe.")
    recipe = load_recipe(args.key)
    try:
        if recipe.resumable:
            raise ConfigError(f"{recipe.key}: resumable ({recipe.algo}) recipes keep no "
                              "intermediate checkpoints; levels need an SB3 recipe")
        require_extra("sb3", f"training {recipe.key}'s {args.level} level ({recipe.algo})")
        require_env_extra(recipe.env_id)
    except (MissingExtraError, ConfigError) as exc:
        parser.error(str(exc))
    expert_card = ExpertCard.from_file(args.zoo / f"{recipe.key}.json")
    level = LEVELS[args.level]
    references = References.of(expert_card)
    eval_every = args.eval_every or max(1, recipe.eval_freq // EVAL_EVERY_DIVISOR)
    scratch = args.scratch / recipe.key / level.name
    if args.export_only:
        info = load_best_info(scratch)
        if info is None:
            parser.error(f"{scratch}: no level checkpoint; train it first")
    else:
        info = call_in_cell_process(train_level, recipe, level, references, eval_every, scratch)
    key = level_key(recipe.key, level.name)
    training = training_section(recipe, info, scratch)
    training["selection"] = {"rule": LEVEL_RULE, "eval_every": eval_every,
                             "validation_seed_start": training["selection"][
                                 "validation_seed_start"],
                             "validation_episodes": recipe.eval_episodes,
                             "validation_return_mean": info["validation"]["return_mean"],
                             "validation_return_std": info["validation"]["return_std"]}
    ship_checkpoint(recipe, scratch, info, args.out, key=key,
                    target=references.return_at(level.low), training=training, aliases=(),
                    level=level_section(level, references, recipe.key, info, eval_every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
