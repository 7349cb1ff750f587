"""Benchmark metrics: AER, performance, accuracy, and aggregates over training seeds and envs.

The aggregates follow rliable (Agarwal et al., 2021, "Deep RL at the edge of the statistical
precipice"): the interquartile mean is SciPy's 25 % trimmed mean (``rliable.metrics.
aggregate_iqm``), the mean is the mean of per-task means, the optimality gap is
``gamma - mean(min(score, gamma))``, and confidence intervals are percentile intervals of a
*stratified* bootstrap: each resample draws, independently for every task (environment), as many
runs (training seeds) as that task has, with replacement. The bootstrap is seeded with NumPy's
PCG64 generator, so reports give the same numbers on every machine. rliable itself is not a
dependency (it pulls arch, pandas, seaborn and absl); SciPy is, and is imported only when an
interquartile mean is computed (``import scipy.stats`` takes about a second).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 10_000
"""Resamples of every bootstrap confidence interval in the report."""
Statistic = Callable[[Sequence[np.ndarray]], np.ndarray]
"""An aggregate of per-task score arrays, each ``(resamples, runs)``; returns ``(resamples,)``."""


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


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean: ``scipy.stats.trim_mean(values, 0.25)``, as ``rliable`` computes it.

    The lowest and highest ``floor(n / 4)`` values are dropped and the rest averaged.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(x) == 0:
        raise ValueError("iqm of no values")
    return float(_iqm_rows(x[None, :])[0])


def _iqm_rows(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean of each row of ``scores``."""
    from scipy.stats import trim_mean  # a second to import: only when an IQM is computed

    return np.asarray(trim_mean(scores, 0.25, axis=1), dtype=np.float64)


def _stack(tasks: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(t, dtype=np.float64) for t in tasks], axis=1)


def iqm_of_tasks(tasks: Sequence[np.ndarray]) -> np.ndarray:
    """IQM over every run of every task (rliable's ``aggregate_iqm``), per resample."""
    return _iqm_rows(_stack(tasks))


def mean_of_tasks(tasks: Sequence[np.ndarray]) -> np.ndarray:
    """Mean over tasks of each task's mean score (rliable's ``aggregate_mean``), per resample."""
    return np.mean([np.asarray(t, dtype=np.float64).mean(axis=1) for t in tasks], axis=0)


def optimality_gap_of_tasks(tasks: Sequence[np.ndarray], gamma: float = 1.0) -> np.ndarray:
    """Optimality gap over every run of every task (rliable's default ``gamma=1``)."""
    return gamma - np.minimum(_stack(tasks), gamma).mean(axis=1)


def stratified_bootstrap_ci(tasks: Sequence[Sequence[float] | np.ndarray], statistic: Statistic,
                            seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                            confidence: float = 0.95) -> tuple[float, float]:
    """Percentile confidence interval of ``statistic`` under a stratified bootstrap (seeded).

    Args:
        tasks: the scores of each task (one value per run); tasks may have different run counts.
        statistic: maps the resampled tasks, each ``(resamples, runs)``, to ``(resamples,)``.
        seed: the bootstrap's seed (NumPy PCG64): the same seed gives the same interval.
        resamples: bootstrap resamples.
        confidence: the interval's coverage.

    Runs are resampled with replacement within each task, never across tasks (rliable's
    ``StratifiedBootstrap`` with ``task_bootstrap=False``).
    """
    arrays = [np.asarray(t, dtype=np.float64).reshape(-1) for t in tasks]
    if not arrays or any(len(a) == 0 for a in arrays):
        raise ValueError("confidence interval of no values")
    rng = np.random.default_rng(seed)
    resampled = [a[rng.integers(0, len(a), size=(resamples, len(a)))] for a in arrays]
    tail = (1 - confidence) / 2
    low, high = np.quantile(statistic(resampled), [tail, 1 - tail])
    return float(low), float(high)


def bootstrap_ci(values: Sequence[float] | np.ndarray, seed: int = 0,
                 resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = 0.95
                 ) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of one task's runs (seeded)."""
    return stratified_bootstrap_ci([values], mean_of_tasks, seed, resamples, confidence)


def _improvement_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) for each row pair of ``x`` ``(R, n)`` and ``y`` ``(R, m)`` (ties count half)."""
    greater = (x[:, :, None] > y[:, None, :]).mean(axis=(1, 2))
    ties = (x[:, :, None] == y[:, None, :]).mean(axis=(1, 2))
    return greater + 0.5 * ties


def probability_of_improvement(x_tasks: Sequence[Sequence[float] | np.ndarray],
                               y_tasks: Sequence[Sequence[float] | np.ndarray],
                               seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES,
                               confidence: float = 0.95) -> Estimate:
    """Rliable's probability of improvement of X over Y, with a stratified-bootstrap CI.

    On each task, ``P(X > Y)`` is the probability that a random run of X scores higher than a
    random run of Y, ties counting half (the Mann-Whitney U statistic over ``n * m``); the
    estimate is its mean over tasks. The interval resamples X's and Y's runs independently
    within each task (seeded, as :func:`stratified_bootstrap_ci`).

    Args:
        x_tasks: X's scores on each task (one value per run).
        y_tasks: Y's scores on the same tasks, in the same order.
        seed: the bootstrap's seed (NumPy PCG64).
        resamples: bootstrap resamples.
        confidence: the interval's coverage.
    """
    xs = [np.asarray(t, dtype=np.float64).reshape(-1) for t in x_tasks]
    ys = [np.asarray(t, dtype=np.float64).reshape(-1) for t in y_tasks]
    if not xs or len(xs) != len(ys) or any(len(a) == 0 for a in xs + ys):
        raise ValueError("probability of improvement needs the same tasks, each with runs")
    value = float(np.mean([_improvement_rows(x[None], y[None])[0] for x, y in zip(xs, ys)]))
    rng = np.random.default_rng(seed)
    per_task = []
    for x, y in zip(xs, ys):
        x_boot = x[rng.integers(0, len(x), size=(resamples, len(x)))]
        y_boot = y[rng.integers(0, len(y), size=(resamples, len(y)))]
        per_task.append(_improvement_rows(x_boot, y_boot))
    tail = (1 - confidence) / 2
    low, high = np.quantile(np.mean(per_task, axis=0), [tail, 1 - tail])
    return Estimate(value, float(low), float(high))


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


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its stratified-bootstrap 95 % confidence interval."""

    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class TaskAggregates:
    """rliable's aggregates of one method across tasks (environments)."""

    iqm: Estimate
    mean: Estimate
    optimality_gap: Estimate
    tasks: int
    runs: int

    @classmethod
    def of(cls, tasks: Sequence[Sequence[float] | np.ndarray], seed: int = 0) -> TaskAggregates:
        """Aggregate the scores of each task (one per run), CIs from one seeded bootstrap each."""
        arrays = [np.asarray(t, dtype=np.float64).reshape(1, -1) for t in tasks]

        def estimate(statistic: Statistic) -> Estimate:
            value = float(statistic(arrays)[0])
            return Estimate(value, *stratified_bootstrap_ci(tasks, statistic, seed=seed))

        return cls(estimate(iqm_of_tasks), estimate(mean_of_tasks),
                   estimate(optimality_gap_of_tasks), len(arrays),
                   sum(a.shape[1] for a in arrays))
