"""Benchmark metrics: AER, performance, accuracy, and aggregates over training seeds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def performance(aer: float, random_return: float, expert_return: float) -> float:
    """``(AER - random) / (expert - random)``: 0 plays like random, 1 like the expert.

    Raises:
        ValueError: the expert is not better than random (the metric is undefined).
    """
    if not expert_return > random_return:
        raise ValueError(
            f"performance is undefined: expert return {expert_return} <= random {random_return}"
        )
    return (aer - random_return) / (expert_return - random_return)


def accuracy(predicted: np.ndarray, expert: np.ndarray) -> float:
    """Fraction of discrete actions equal to the expert's."""
    predicted, expert = np.asarray(predicted).reshape(-1), np.asarray(expert).reshape(-1)
    if predicted.shape != expert.shape or predicted.size == 0:
        raise ValueError(f"cannot compare {predicted.shape} with {expert.shape}")
    return float(np.mean(predicted == expert))


def iqm(values: Sequence[float]) -> float:
    """Interquartile mean: the mean of the middle 50 % (fractional weights at the edges).

    Each sorted value covers ``1/n`` of the distribution; the values covering the quantile range
    ``[0.25, 0.75]`` are averaged with weights equal to their overlap with it (as in rliable).
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0:
        raise ValueError("iqm of no values")
    edges = np.arange(n + 1) / n
    weights = np.clip(np.minimum(edges[1:], 0.75) - np.maximum(edges[:-1], 0.25), 0, None)
    return float(np.sum(weights * x) / np.sum(weights))


def bootstrap_ci(values: Sequence[float], seed: int = 0, resamples: int = 10_000,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (seeded)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) == 0:
        raise ValueError("confidence interval of no values")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Aggregate:
    """Summary of one metric over training seeds."""

    mean: float
    std: float
    iqm: float
    ci_low: float
    ci_high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float], seed: int = 0) -> Aggregate:
        """Aggregate ``values`` (one per training seed)."""
        x = np.asarray(values, dtype=np.float64)
        low, high = bootstrap_ci(x, seed=seed)
        return cls(float(x.mean()), float(x.std()), iqm(x), low, high, len(x))
