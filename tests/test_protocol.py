import numpy as np
import pytest
from conftest import make_dataset

from imitation_datasets.benchmark.protocol import (
    _seed_stream,
    env_protocol,
    leakage_check,
    start_states,
)
from imitation_datasets.core.names import UnknownNameError
from imitation_datasets.core.seeding import BENCHMARK_TEST_SEED_START as TEST_SEED_START
from imitation_datasets.data.parquet import read_parquet


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    path = tmp_path_factory.mktemp("leak")
    out = make_dataset(path, 30, name="t")
    return read_parquet(out)[0]


def test_disjoint_test_seeds_pass_the_leakage_check(training):
    seeds = _seed_stream(TEST_SEED_START, 20, set(training.seeds.tolist()))
    report = leakage_check(seeds, start_states("CartPole-v1", seeds), [training])
    assert report.passed and report.min_distance > 0
    assert report.training_start_states == 30


def test_leakage_check_catches_an_injected_overlap(training):
    seeds = _seed_stream(TEST_SEED_START, 20, set())
    seeds[7] = int(training.seeds[12])  # a test episode that starts where training did
    report = leakage_check(seeds, start_states("CartPole-v1", seeds), [training])
    assert not report.passed
    assert report.overlapping_test_seeds == [seeds[7]] and report.seed_overlap == [seeds[7]]


def test_leakage_check_compares_states_not_only_seeds(training):
    seeds = _seed_stream(TEST_SEED_START, 5, set())
    starts = start_states("CartPole-v1", seeds)
    starts[2] = training.obs[training.starts[4]] + 1e-9  # same state from another seed
    report = leakage_check(seeds, starts, [training])
    assert not report.passed and report.overlapping_test_seeds == [seeds[2]]
    assert report.seed_overlap == []


def test_seed_streams_skip_excluded_seeds():
    assert _seed_stream(10, 3, {11}) == [10, 12, 13]


def test_protocol_lookup():
    assert env_protocol("CartPole-v1").expert == "cartpole"
    assert env_protocol("cartpole").train_episodes == 100
    with pytest.raises(UnknownNameError, match="cartpole"):
        env_protocol("cartpol")
    assert np.isfinite(env_protocol("mountaincar").random_episodes)
