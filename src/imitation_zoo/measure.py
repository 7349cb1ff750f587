"""Measure a policy the way a card records it: returns, random baseline, threshold and quality.

Used when a card is written (``shipping.py``) or re-measured (``evaluate.py``), and, through
:class:`NetworkPolicy`, by the validation of both trainers (``selection.py``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from imitation_datasets.core.acting import batch_actions, one_or_batch
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.seeding import EXPERT_EVAL_SEED_START
from imitation_datasets.experts.card import Evaluation
from imitation_datasets.experts.network import ExpertNetwork

THRESHOLD_PERCENTILE = 5.0
THRESHOLD_RULE = (
    "min(target, floor(5th percentile of the evaluation returns)) "
    "(numpy.percentile, linear interpolation)"
)
"""How a card's default acceptance threshold follows from its evaluation returns."""


class NetworkPolicy:
    """Adapt an :class:`ExpertNetwork` to ``predict(obs, deterministic=True)``."""

    def __init__(self, network: ExpertNetwork) -> None:
        self.network = network

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Return ``(actions, None)`` (SB3's convention) for one observation or a batch."""
        return one_or_batch(self.network, obs, dtype=np.float32), None


class StepCounter:
    """Wrap a policy and count the observations it acts on.

    The episode runner asks for one action per live environment per step, so the number of
    observations seen equals the number of environment steps played.
    """

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.steps = 0

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """The wrapped policy's actions for one observation or a batch (counted)."""
        return one_or_batch(lambda batch: self._batch(batch, deterministic), obs)

    def _batch(self, batch: np.ndarray, deterministic: bool) -> np.ndarray:
        self.steps += len(batch)
        return batch_actions(self.policy, batch, deterministic)


def normalised_score(value: float, random_return: float, expert_return: float) -> float:
    """D4RL's normalised score as a fraction: 0 for the random policy, 1 for the expert."""
    return (value - random_return) / (expert_return - random_return)


def measured_level(level: dict[str, Any], return_mean: float) -> dict[str, Any]:
    """A level card section updated with a new measured ``return_mean`` and its score."""
    return {**level, "return_mean": return_mean, "normalised_score": normalised_score(
        return_mean, level["random_return_mean"], level["expert_return_mean"])}


def threshold_from_returns(returns: np.ndarray, target: float) -> float:
    """Apply :data:`THRESHOLD_RULE` to measured returns."""
    percentile = float(np.percentile(np.asarray(returns, dtype=np.float64), THRESHOLD_PERCENTILE))
    return float(min(float(target), math.floor(percentile)))


def measure(
    policy: Any,
    env_id: str,
    target: float,
    command: str,
    episodes: int = 100,
    seed_start: int = EXPERT_EVAL_SEED_START,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure a policy on the seeds ``seed_start + k`` and build a card's measured fields.

    Both the policy and the seeded random policy are played with
    :func:`~imitation_datasets.core.evaluation.evaluate_policy` on the same seeds.

    Args:
        policy: anything with ``predict(obs_batch, deterministic=True)``.
        env_id: Gymnasium id.
        target: the expert's target return (decides ``quality`` and caps ``threshold``).
        command: the shell command that re-measures (stored in the evaluation section).
        episodes: number of evaluation episodes.
        seed_start: first evaluation seed.
        env_kwargs: extra ``gym.make`` arguments.

    Returns:
        ``{"evaluation": Evaluation, "threshold", "threshold_rule", "quality", "returns"}``.
    """
    seeds = [seed_start + k for k in range(episodes)]
    counter = StepCounter(policy)
    returns = evaluate_policy(counter, env_id, seeds, env_kwargs=env_kwargs)
    random_returns = evaluate_policy(None, env_id, seeds, env_kwargs=env_kwargs)
    evaluation = Evaluation(
        episodes=int(episodes),
        seed_start=int(seed_start),
        return_mean=float(np.mean(returns)),
        return_std=float(np.std(returns)),
        return_min=float(np.min(returns)),
        return_max=float(np.max(returns)),
        random_return_mean=float(np.mean(random_returns)),
        random_return_std=float(np.std(random_returns)),
        length_mean=counter.steps / episodes,
        command=command,
    )
    return {
        "evaluation": evaluation,
        "threshold": threshold_from_returns(returns, target),
        "threshold_rule": THRESHOLD_RULE,
        "quality": "meets_target" if evaluation.return_mean >= target else "below_target",
        "returns": returns,
    }
