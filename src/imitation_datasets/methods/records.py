"""What goes into a method's ``fit`` and what comes out, and the contract the benchmark relies on.

:class:`Imitator` is that contract: ``fit(task)`` and ``predict(obs, deterministic)``. Every
:class:`~.base.Method` fulfils it; any other object with those two methods can too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from imitation_datasets.core.errors import OneLineError
from imitation_datasets.data.arrays import DatasetArrays


@dataclass
class TrainingTask:
    """Everything a method may use for training (the caller has already split the data).

    Attributes:
        env_id: Gymnasium id of the environment.
        env_kwargs: extra ``gym.make`` arguments.
        expert: the training episodes only; transitions are ``(s, a, s')`` with ``s'`` the next
            observation inside the episode and ``final_obs`` after the last step.
        random: random-policy episodes (pre-demonstration data of the BCO family), or ``None``
            (then the method plays seeded random episodes itself).
        validation_seeds: reset seeds for model selection.
        expert_return: expert's average return (for validation performance).
        random_return: random policy's average return (for validation performance).
        success_threshold: episode return counted as a success (the success rate that drives
            ABCO's and IUPE's resampling). ``None``: not given; ABCO and IUPE refuse such a task
            rather than run without resampling. The benchmark passes the dataset's acceptance
            threshold.
        interaction_seed: base of every seed used to interact with the environment during
            training: the ``k``-th episode is reset with ``episode_seed(interaction_seed, k, 0)``.
        max_epochs: caps the number of policy-training epochs (BC: replaces ``epochs``).
        demo_repeats: passes over the demonstrations in one policy epoch (see
            :meth:`~.base.Method.demo_passes`). The benchmark gives a run on fewer
            demonstrations than the protocol's ``train_episodes`` ``round(full / used)``
            transitions, so every point of a sample-efficiency curve takes about as many
            gradient steps as the full set does; ``1``: one pass.
        expert_policy: the expert itself, for methods that query it at the states they visit
            (DAgger): anything with ``predict(obs_batch, deterministic)`` returning actions or
            ``(actions, state)``. ``None``: not available (every other method ignores it). The
            benchmark passes the environment's curated expert.
    """

    env_id: str
    env_kwargs: dict[str, Any]
    expert: DatasetArrays
    random: DatasetArrays | None
    validation_seeds: list[int]
    expert_return: float
    random_return: float
    success_threshold: float | None = None
    interaction_seed: int = 0
    max_epochs: int | None = None
    demo_repeats: int = 1
    expert_policy: Any | None = None


@dataclass
class EvalRecord:
    """One point of the learning curve (after ``epoch`` policy epochs)."""

    epoch: int
    iteration: int
    validation_aer: float
    validation_performance: float | None
    validation_returns: list[float]
    train_loss: float
    accuracy: float | None
    idm_loss: float | None
    idm_accuracy: float | None
    env_steps: int
    wall_seconds: float
    info: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainingLog:
    """The learning curve of one ``fit`` and the epoch whose weights were kept.

    ``accuracy`` is the policy's agreement with the expert's actions on the training data
    (discrete actions only); ``idm_accuracy`` the agreement of the inverse dynamics model's
    labels with them (the BCO family never trains on the expert's actions). ``env_steps``
    counts pre-demonstration (random) and post-demonstration transitions; validation episodes
    are not counted.
    """

    method: str
    env_id: str
    seed: int
    config: dict[str, Any]
    records: list[EvalRecord] = field(default_factory=list)
    best_epoch: int = -1
    best_validation_aer: float = -math.inf
    best_validation_performance: float | None = None
    epochs: int = 0
    env_steps: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingLog:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["records"] = [EvalRecord(**r) for r in data.get("records", [])]
        return cls(**data)


class TaskError(OneLineError, ValueError):
    """A training task does not fit the method (shapes, action types, a missing threshold)."""


@runtime_checkable
class Imitator(Protocol):
    """What the benchmark needs from an imitation-learning method."""

    def fit(self, task: TrainingTask) -> TrainingLog:
        """Train on ``task`` (model selection on its validation seeds only); return the curve."""

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation or a batch (see :meth:`.base.Method.predict`)."""
