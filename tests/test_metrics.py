import numpy as np
import pytest
from scipy.stats import trim_mean

from imitation_datasets.core.metrics import (
    Aggregate,
    TaskAggregates,
    accuracy,
    bootstrap_ci,
    iqm,
    iqm_of_tasks,
    mean_of_tasks,
    optimality_gap_of_tasks,
    performance,
    stratified_bootstrap_ci,
)


def test_performance_is_zero_for_random_and_one_for_expert():
    assert performance(20.0, 20.0, 500.0) == 0.0
    assert performance(500.0, 20.0, 500.0) == 1.0
    assert performance(-100.0, -500.0, -80.0) == pytest.approx(400 / 420)
    with pytest.raises(ValueError, match="undefined"):
        performance(1.0, 5.0, 5.0)


def test_accuracy():
    assert accuracy(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])) == 0.75
    with pytest.raises(ValueError):
        accuracy(np.array([0]), np.array([0, 1]))


def test_iqm_is_rliables_25_percent_trimmed_mean():
    # rliable.metrics.aggregate_iqm([0, .2, .95, .97, 1]) = 0.70667 (the old weighted IQM: 0.731)
    assert iqm([0, 0.2, 0.95, 0.97, 1]) == pytest.approx(0.706666666666667, abs=1e-12)
    assert iqm([1, 2, 3, 4]) == 2.5  # middle two
    assert iqm([1, 2, 3, 4, 100]) == 3.0  # floor(5 / 4) = 1 value cut at each end
    assert iqm([7.0]) == 7.0
    x = np.arange(100.0)
    assert iqm(x) == pytest.approx(x[25:75].mean())
    values = np.random.default_rng(0).normal(size=37)
    assert iqm(values) == trim_mean(values, 0.25)
    with pytest.raises(ValueError, match="no values"):
        iqm([])


def test_optimality_gap_counts_scores_above_one_as_one():
    gaps = optimality_gap_of_tasks([np.array([[0.5, 1.2], [1.0, 1.3]]), np.array([[0.9], [1.0]])])
    assert gaps == pytest.approx([0.2, 0.0])  # one value per resample (row)


def test_bootstrap_ci_is_seeded_and_contains_the_mean():
    values = [0.9, 0.95, 1.0, 0.97, 0.92]
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    low, high = bootstrap_ci(values)
    assert low <= np.mean(values) <= high
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    # the numbers of the published per-environment CIs: PCG64 seed 0, 10,000 resamples
    rng = np.random.default_rng(0)
    x = np.asarray(values)
    means = x[rng.integers(0, 5, size=(10_000, 5))].mean(axis=1)
    assert (low, high) == tuple(np.quantile(means, [0.025, 0.975]))
    assert (low, high) == pytest.approx((0.918, 0.978), abs=1e-12)


def test_stratified_bootstrap_resamples_runs_within_each_task():
    # resampling across tasks would mix the zeros and ones; within them, every resample is the same
    tasks = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]
    assert stratified_bootstrap_ci(tasks, mean_of_tasks) == (0.5, 0.5)
    assert stratified_bootstrap_ci(tasks, iqm_of_tasks) == (0.6, 0.6)  # iqm of 3 zeros, 4 ones
    with pytest.raises(ValueError, match="no values"):
        stratified_bootstrap_ci([[1.0], []], mean_of_tasks)


def test_aggregates_across_tasks_are_pinned():
    agg = TaskAggregates.of([[0.9, 0.95, 1.0], [0.5, 0.7, 0.6]], seed=0)
    assert (agg.tasks, agg.runs) == (2, 6)
    assert agg.iqm.value == pytest.approx(trim_mean([0.9, 0.95, 1.0, 0.5, 0.7, 0.6], 0.25))
    assert agg.mean.value == pytest.approx(0.775)
    assert agg.optimality_gap.value == pytest.approx(0.225)
    assert (agg.iqm.ci_low, agg.iqm.ci_high) == pytest.approx((0.725, 0.8375), abs=1e-12)
    assert (agg.mean.ci_low, agg.mean.ci_high) == pytest.approx((0.725, 0.825), abs=1e-12)
    assert TaskAggregates.of([[0.9, 0.95, 1.0], [0.5, 0.7, 0.6]], seed=0) == agg


def test_aggregate():
    agg = Aggregate.of([1.0, 2.0, 3.0, 4.0])
    assert (agg.mean, agg.iqm, agg.n) == (2.5, 2.5, 4)
    assert agg.std == pytest.approx(np.std([1, 2, 3, 4]))


def test_probability_of_improvement_is_the_mann_whitney_share_averaged_over_tasks():
    from scipy.stats import mannwhitneyu

    from imitation_datasets.core.metrics import probability_of_improvement

    # 1 beats 0; 2 beats 0 and ties 2; 3 beats 0 and 2: (1 + 1.5 + 2) / 9.
    assert probability_of_improvement([[1, 2, 3]], [[0, 2, 4]]).value == 0.5
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=7), rng.normal(size=5) + 0.3
    expected = mannwhitneyu(x, y).statistic / (7 * 5)
    assert abs(probability_of_improvement([x], [y]).value - expected) < 1e-12
    both = probability_of_improvement([[1.0, 1.0], x], [[0.5, 0.6], y])
    assert abs(both.value - (1.0 + expected) / 2) < 1e-12
    assert both.ci_low <= both.value <= both.ci_high
    assert probability_of_improvement([[1, 1]], [[0, 0]]) == \
        probability_of_improvement([[1, 1]], [[0, 0]], seed=0)  # seeded: same interval


def test_probability_of_improvement_refuses_mismatched_tasks():
    from imitation_datasets.core.metrics import probability_of_improvement

    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement([[1.0]], [[0.5], [0.2]])
    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement([[]], [[0.5]])
