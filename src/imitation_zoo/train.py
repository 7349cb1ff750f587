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

import argparse
import logging
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imitation_datasets.experts.curated import ZOO_DIR
from imitation_zoo.ars_training import train_ars
from imitation_zoo.checkpoint import DEFAULT_SCRATCH, checkpoint_dir
from imitation_zoo.recipe import CHECKPOINTS_DIR, TRAIN_MODULE, load_recipe, recipe_keys
from imitation_zoo.sb3_training import train
from imitation_zoo.shipping import already_shipped, ship

log = logging.getLogger(__name__)


def parser() -> argparse.ArgumentParser:
    """The command line's options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {TRAIN_MODULE}",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
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
