"""The one validate-and-keep-best loop of both trainers (stable-baselines3 and ARS-numpy).

Every ``eval_freq`` environment steps a trainer exports its current policy to an
:class:`~imitation_zoo.export.ExportedPolicy` (a NumPy network checked against the trainer's own
actions) and hands it to :meth:`BestCheckpoint.validate`, which plays ``eval_episodes``
validation episodes on the seeds ``EXPERT_SELECTION_SEED_START + k`` (disjoint from the card's
evaluation seeds) with the exported network, keeps the best export so far on disk
(``best.safetensors`` + ``best.json``: highest validation mean, then lowest std), appends the
validation to ``progress.csv`` and logs it. A killed run loses nothing already found.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.seeding import EXPERT_SELECTION_SEED_START
from imitation_zoo.checkpoint import (
    BEST_EXPORT,
    BEST_INFO,
    PROGRESS,
    selection_digest,
    write_json_atomic,
)
from imitation_zoo.export import ExportedPolicy
from imitation_zoo.measure import NetworkPolicy
from imitation_zoo.recipe import Recipe

log = logging.getLogger(__name__)

PROGRESS_HEADER = "timesteps,val_mean,val_std,best_mean,elapsed_s,digest\n"
NO_BEST = (-np.inf, np.inf)
"""``(mean, std)`` of "no checkpoint yet": any validation beats it."""


class Validation(NamedTuple):
    """One validation of the current policy."""

    mean: float
    std: float
    improved: bool
    """It is the best checkpoint so far (now on disk)."""


class StopTraining(Exception):
    """Ends a training segment: ``stop_at`` reached or the segment's time is up."""


class BestCheckpoint:
    """Validate exported policies of one training run and keep the best one on disk.

    Args:
        recipe: the recipe being trained.
        folder: its checkpoint folder.
        digest: the run's :func:`~imitation_zoo.checkpoint.training_digest`.
        run: what ``best.json`` records about the run (command, versions, start time).
        best: ``(mean, std)`` of the best checkpoint already in ``folder`` (kept unless beaten).
        elapsed_offset: wall time of earlier segments of a resumed run.
    """

    def __init__(self, recipe: Recipe, folder: Path, digest: str, run: dict[str, Any],
                 best: tuple[float, float] = NO_BEST, elapsed_offset: float = 0.0) -> None:
        self.recipe = recipe
        self.folder = folder
        self.digest = digest
        self.run = run
        self.best = best
        self.elapsed_offset = elapsed_offset
        self.seeds = recipe.validation_seeds()
        self.started = time.monotonic()
        self.progress = folder / PROGRESS
        if not self.progress.exists():
            self.progress.write_text(PROGRESS_HEADER, encoding="utf-8")

    def elapsed(self) -> float:
        """Wall time of training so far (all segments of a resumed run)."""
        return self.elapsed_offset + time.monotonic() - self.started

    def segment_time(self) -> float:
        """Wall time of this segment."""
        return time.monotonic() - self.started

    def validate(self, steps: int, exported: ExportedPolicy,
                 on_best: Callable[[], None] | None = None) -> Validation:
        """Play the validation episodes with ``exported``; keep it if it is the best so far.

        Args:
            steps: environment steps trained so far.
            exported: the current policy, exported and checked.
            on_best: called when a new best export was written, before its ``best.json`` (the
                SB3 trainer saves its model next to it).

        Returns:
            The validation's mean and std return, and whether it is the new best.
        """
        recipe = self.recipe
        returns = evaluate_policy(NetworkPolicy(exported.network()), recipe.env_id, self.seeds,
                                  env_kwargs=dict(recipe.env_kwargs))
        mean, std = float(np.mean(returns)), float(np.std(returns))
        elapsed = self.elapsed()
        improved = self.better(mean, std)
        if improved:
            self.best = (mean, std)
            self._save_best(exported, steps, mean, std, elapsed, on_best)
        with self.progress.open("a", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerow([steps, f"{mean:.3f}", f"{std:.3f}",
                                         f"{self.best[0]:.3f}", f"{elapsed:.1f}",
                                         self.digest[:12]])
        log.info("[%s] step %9d: validation %9.2f ± %7.2f (best %9.2f)%s  %7.1fs", recipe.key,
                 steps, mean, std, self.best[0], " *" if improved else "", elapsed)
        return Validation(mean, std, improved)

    def better(self, mean: float, std: float) -> bool:
        """Whether a validation ``(mean, std)`` beats the kept checkpoint.

        Here: a higher mean, then a lower std; subclasses keep checkpoints by another rule.
        """
        return (mean, -std) > (self.best[0], -self.best[1])

    def stop_reached(self, value: float) -> bool:
        """Whether ``value`` (a validation mean) reaches the recipe's ``stop_at`` (logged)."""
        stop_at = self.recipe.stop_at
        if stop_at is None or value < stop_at:
            return False
        log.info("[%s] validation reached stop_at=%s; stopping", self.recipe.key, stop_at)
        return True

    def _save_best(self, exported: ExportedPolicy, steps: int, mean: float, std: float,
                   elapsed: float, on_best: Callable[[], None] | None) -> None:
        exported.save(self.folder / BEST_EXPORT)
        if on_best is not None:
            on_best()
        write_json_atomic(self.folder / BEST_INFO, {
            "recipe_digest": self.digest,
            "selection_digest": selection_digest(self.recipe),
            "timesteps": steps,
            "validation": {"return_mean": mean, "return_std": std, "episodes": len(self.seeds),
                           "seed_start": EXPERT_SELECTION_SEED_START},
            "elapsed_s": round(elapsed, 1),
            "spec": exported.spec,
            "action_low": None if exported.action_low is None else exported.action_low.tolist(),
            "action_high": None if exported.action_high is None
            else exported.action_high.tolist(),
            "export_check": exported.check,
            "run": self.run,
        })
