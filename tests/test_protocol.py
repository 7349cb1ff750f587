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


def test_envs_yaml_is_typed_and_checked(tmp_path):
    from imitation_datasets.benchmark.options import ENVS
    from imitation_datasets.benchmark.protocol import (
        ProtocolSizes,
        env_families,
        expand_families,
        protocol_table,
    )
    from imitation_datasets.core.errors import ConfigError

    table = protocol_table()
    assert tuple(env_families()["classic"]) == ENVS  # the CLI's default --envs, in order
    assert list(table) == [env for members in env_families().values() for env in members]
    assert expand_families(["box2d", "cartpole"]) == ["bipedalwalker", "lunarlandercontinuous",
                                                      "cartpole"]
    assert env_protocol("Hopper-v5").dataset_episodes == 200  # training + accuracy episodes
    assert table["cartpole"] == ProtocolSizes(random_episodes=900)
    assert env_protocol("acrobot").random_episodes == 50
    bad = tmp_path / "envs.yaml"
    bad.write_text("defaults: {train_episodes: 100}\nenvs:\n  cartpole: {random_episode: 5}\n")
    with pytest.raises(ConfigError, match=r"envs.yaml \[envs.cartpole\]: unknown key "
                                          r"'random_episode'; did you mean random_episodes"):
        protocol_table(bad)
    bad.write_text("defaults: {train_episodes: '100'}\nenvs: {}\n")
    with pytest.raises(ConfigError, match="'train_episodes' must be int"):
        protocol_table(bad)
    bad.write_text("envs: {cartpole: {}}\nfamilies: {classic: [cartpole, hopper]}\n")
    with pytest.raises(ConfigError, match=r"envs.yaml \[families.classic\]: 'hopper' has no "
                                          "section under envs"):
        protocol_table(bad)
    bad.write_text("envs: {cartpole: {}}\nfamilies: {a: [cartpole], b: [cartpole]}\n")
    with pytest.raises(ConfigError, match=r"\[families.b\]: cartpole is already in family a"):
        protocol_table(bad)
    bad.write_text("default: {}\nenvs: {}\n")
    with pytest.raises(ConfigError, match="unknown key 'default'; did you mean defaults"):
        protocol_table(bad)


def test_every_spelling_of_an_env_names_the_same_files(tmp_path):
    from imitation_datasets.benchmark.protocol import env_key
    from imitation_datasets.benchmark.runner import facts_path

    assert env_key("CartPole-v1") == env_key("cartpole") == "cartpole"
    assert facts_path(tmp_path, "CartPole-v1") == tmp_path / "envs" / "cartpole.json"
