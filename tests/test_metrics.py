import numpy as np
import pytest

from imitation_datasets.core.metrics import (
    Aggregate,
    accuracy,
    bootstrap_ci,
    iqm,
    performance,
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


def test_iqm_on_known_inputs():
    assert iqm([1, 2, 3, 4]) == 2.5  # middle two
    assert iqm([1, 2, 3, 4, 100]) == pytest.approx((0.25 * 2 + 3 + 0.25 * 4) / 1.5)
    assert iqm([7.0]) == 7.0
    x = np.arange(100.0)
    assert iqm(x) == pytest.approx(x[25:75].mean())


def test_bootstrap_ci_is_seeded_and_contains_the_mean():
    values = [0.9, 0.95, 1.0, 0.97, 0.92]
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    low, high = bootstrap_ci(values)
    assert low <= np.mean(values) <= high
    assert bootstrap_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)


def test_aggregate():
    agg = Aggregate.of([1.0, 2.0, 3.0, 4.0])
    assert (agg.mean, agg.iqm, agg.n) == (2.5, 2.5, 4)
    assert agg.std == pytest.approx(np.std([1, 2, 3, 4]))
