"""Train one curated expert from its recipe and ship it to the zoo.

``python -m imitation_zoo.train KEY [--timesteps N] [--out DIR] [--fresh] [--export-only]
[--max-minutes M] [--workers W]``

Trains with :func:`imitation_zoo.sb3_training.train` (stable-baselines3 / sb3-contrib recipes)
or :func:`imitation_zoo.ars_training.train_ars` (``algo: ARS-numpy``), both of which keep the
best validated checkpoint (:mod:`imitation_zoo.selection`), then exports it to
``OUT/KEY.safetensors`` and writes ``OUT/KEY.json``, measured with
:func:`imitation_datasets.core.evaluation.evaluate_policy` on ``expert_eval_seeds(100)``
(:func:`imitation_zoo.shipping.ship`). ``--export-only`` skips training and ships the best
checkpoint already on disk.

Resumable recipes (``resumable: true``) keep their checkpoint folder in the committed
``checkpoints/KEY/`` (``--checkpoints`` to change it): ``train KEY`` resumes from it, ``--fresh``
starts over, ``--max-minutes`` ends a segment cleanly (state saved, best shipped), and Ctrl-C or
SIGTERM saves the state of the last finished update.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitation_datasets.core.config import option
from imitation_datasets.core.extras import MissingExtraError, require_env_extra, require_extra
from imitation_datasets.experts.curated import ZOO_DIR
from imitation_zoo.ars_training import train_ars
from imitation_zoo.checkpoint import DEFAULT_SCRATCH, checkpoint_dir
from imitation_zoo.command import check_positive, check_recipe_key, parse_options
from imitation_zoo.recipe import CHECKPOINTS_DIR, TRAIN_MODULE, load_recipe
from imitation_zoo.sb3_training import train
from imitation_zoo.shipping import already_shipped, ship

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainOptions:
    """What ``python -m imitation_zoo.train`` trains and where it writes (its arguments)."""

    key: str = field(metadata={"help": "recipe to train (a file stem of imitation_zoo/recipes)"})
    timesteps: int | None = option(None, "override the recipe's total_timesteps")
    out: Path = option(ZOO_DIR, "folder receiving KEY.safetensors and KEY.json")
    scratch: Path = option(DEFAULT_SCRATCH, "scratch root of the checkpoints of recipes that "
                                            "are not resumable")
    fresh: bool = option(False, "forget a best checkpoint (and training state) left by an "
                                "earlier run")
    export_only: bool = option(False, "skip training; ship the best checkpoint already on disk")
    checkpoints: Path = option(CHECKPOINTS_DIR, "root of the committed checkpoints of resumable "
                                                "recipes")
    max_minutes: float | None = option(None, "end this training segment after that many "
                                             "minutes (state saved, best shipped)")
    workers: int | None = option(None, "ARS-numpy recipes: processes playing episodes "
                                       "(none: every CPU; results do not depend on it)")

    def __post_init__(self) -> None:
        check_recipe_key(self.key)
        check_positive(self, ("timesteps", "workers", "max_minutes"))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    args, parser = parse_options(TrainOptions, argv, f"python -m {TRAIN_MODULE}",
                                 "Train a curated expert from its recipe and ship it to the "
                                 "zoo.")
    recipe = load_recipe(args.key)
    try:  # one line naming our extra, before any training starts
        if recipe.algo != "ARS-numpy":
            require_extra("sb3", f"retraining {recipe.key} ({recipe.algo})")
        require_env_extra(recipe.env_id)
    except MissingExtraError as exc:
        parser.error(str(exc))
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
            log.error("[%s] interrupted; the best checkpoint so far is in %s (ship it with "
                      "--export-only)", recipe.key, folder)
            return 130
    if recipe.resumable and already_shipped(folder, args.out / f"{recipe.key}.json"):
        log.info("[%s] the zoo already holds the best checkpoint", recipe.key)
        return 0
    ship(recipe, args.timesteps, args.scratch, args.out, args.checkpoints)
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    """Turn SIGTERM into KeyboardInterrupt so resumable training saves its state."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
