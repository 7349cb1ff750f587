"""Model selection on validation seeds: a callback of the ``fit`` template.

Every ``eval_every`` policy epochs (and after the last one) the policy plays the task's
validation seeds through :func:`~imitation_datasets.core.evaluation.evaluate_policy` and the
point is added to the learning curve. The weights kept are the latest ones whose validation AER
is within ``selection_tolerance`` (in performance units, i.e. that fraction of the expert-random
return gap) of the best AER so far: among checkpoints that a few noisy validation episodes
cannot tell apart, the longer-trained one. Tolerance 0 keeps strictly the best. Test seeds are
never seen here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.metrics import performance
from imitation_datasets.methods.records import EvalRecord, TaskError, TrainingLog, TrainingTask


class Trainee(Protocol):
    """What model selection reads from the method it watches."""

    networks: dict[str, Any]
    epoch: int
    iteration: int

    @property
    def env_steps(self) -> int:
        """Transitions of training interaction so far."""

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations."""

    def training_accuracy(self) -> float | None:
        """The policy's agreement with the expert's training actions (``None``: continuous)."""


@dataclass
class EpochMetrics:
    """What a method reports at the end of a policy epoch."""

    train_loss: float
    idm_loss: float | None = None
    idm_accuracy: float | None = None
    info: dict[str, float] = field(default_factory=dict)


class ModelSelection:
    """Validates on a schedule and keeps the selected weights (see the module docstring).

    Args:
        task: gives the validation seeds and the expert and random returns.
        eval_every: validate every this many policy epochs.
        eval_episodes: validation seeds used (the first ones; ``None`` or 0: all of them).
        selection_tolerance: see the module docstring.
        log: the learning curve to append to; its ``best_*`` fields are kept up to date.

    Raises:
        TaskError: the task has no validation seeds.
    """

    def __init__(self, task: TrainingTask, eval_every: int, eval_episodes: int | None,
                 selection_tolerance: float, log: TrainingLog) -> None:
        self.task = task
        self.eval_every = eval_every
        self.log = log
        span = task.expert_return - task.random_return
        self.tolerance = selection_tolerance * span if span > 0 else 0.0
        self.seeds = list(task.validation_seeds)[:eval_episodes] if eval_episodes \
            else list(task.validation_seeds)
        if not self.seeds:
            raise TaskError(f"{log.method}: the task has no validation seeds")
        self.started = time.perf_counter()
        self.best_state: dict[str, dict[str, torch.Tensor]] | None = None
        self.last: EpochMetrics | None = None
        self.evaluated_epoch = -1
        self.max_aer = -math.inf

    def on_epoch_end(self, method: Trainee, metrics: EpochMetrics) -> None:
        """Record that ``method.epoch`` ended; validate when the schedule says so."""
        self.last = metrics
        if method.epoch % self.eval_every == 0:
            self.validate(method, metrics)

    def on_fit_end(self, method: Trainee) -> None:
        """Validate the last epoch if it was not, then load the selected weights."""
        if self.evaluated_epoch != method.epoch and self.last is not None:
            self.validate(method, self.last)
        if self.best_state is not None:
            for name, net in method.networks.items():
                net.load_state_dict(self.best_state[name])

    def validate(self, method: Trainee, metrics: EpochMetrics) -> None:
        """Play the validation seeds, add the point to the curve, keep the weights if selected."""
        task = self.task
        returns = evaluate_policy(method, task.env_id, self.seeds, task.env_kwargs)
        aer = float(returns.mean())
        try:
            perf = performance(aer, task.random_return, task.expert_return)
        except ValueError:
            perf = None
        record = EvalRecord(
            epoch=method.epoch, iteration=method.iteration, validation_aer=aer,
            validation_performance=perf, validation_returns=returns.tolist(),
            train_loss=float(metrics.train_loss), accuracy=method.training_accuracy(),
            idm_loss=None if metrics.idm_loss is None else float(metrics.idm_loss),
            idm_accuracy=None if metrics.idm_accuracy is None else float(metrics.idm_accuracy),
            env_steps=method.env_steps, wall_seconds=time.perf_counter() - self.started,
            info={k: float(v) for k, v in metrics.info.items()},
        )
        self.log.records.append(record)
        self.evaluated_epoch = method.epoch
        self.max_aer = max(self.max_aer, aer)
        if aer >= self.max_aer - self.tolerance:
            self.log.best_validation_aer = aer
            self.log.best_validation_performance = perf
            self.log.best_epoch = method.epoch
            self.best_state = {name: _copy(net) for name, net in method.networks.items()}


def _copy(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
