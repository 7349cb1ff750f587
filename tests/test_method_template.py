"""The Method template's contracts: typed configs, ABCO's threshold, explicit acting modes."""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest

from imitation_datasets.core.config import read_yaml, to_mapping
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.methods import (
    ABCO,
    BC,
    BCO,
    IUPE,
    METHODS,
    ABCOConfig,
    BCOConfig,
    ConfigError,
    DAgger,
    Imitator,
    Method,
    TaskError,
    TrainingTask,
    load_config,
)
from imitation_datasets.methods.configuration import config_file
from imitation_datasets.methods.interaction import Interaction


@pytest.mark.parametrize("name", list(METHODS))
def test_yaml_defaults_are_the_dataclass_defaults(name: str) -> None:
    # A method built without its YAML file (e.g. a user's subclass) behaves as the shipped one.
    cls = METHODS[name]
    assert load_config(name) == cls.config_class()
    assert set(read_yaml(config_file(name))["default"]) == set(to_mapping(cls.config_class()))


def test_configs_are_typed_and_frozen() -> None:
    config = load_config("bco", "CartPole-v1")
    assert isinstance(config, BCOConfig) and config.alpha == 0.1 and config.hidden == (64, 64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.alpha = 0.5  # type: ignore[misc]
    # IUPE differs from ABCO only where the paper does: Gaussian continuous models.
    iupe, abco = to_mapping(load_config("iupe")), to_mapping(load_config("abco"))
    assert {k for k in iupe if iupe[k] != abco[k]} == {"continuous_loss"}
    env = make_env("CartPole-v1")
    with pytest.raises(ConfigError, match="BCOConfig"):
        BCO(env.observation_space, env.action_space, ABCOConfig())  # type: ignore[arg-type]


def tiny_task(threshold: float | None) -> TrainingTask:
    env_fn = partial(make_env, "CartPole-v1", None)
    expert = DatasetArrays.from_episodes(play(env_fn, [0], random_actions=True))
    return TrainingTask(env_id="CartPole-v1", env_kwargs={}, expert=expert, random=None,
                        validation_seeds=[1], expert_return=5.0, random_return=1.0,
                        success_threshold=threshold)


@pytest.mark.parametrize("cls", [ABCO, IUPE])
def test_resampling_needs_a_success_threshold(cls: type[Method]) -> None:
    env = make_env("CartPole-v1")
    method = cls(env.observation_space, env.action_space, {"random_steps": 10})
    with pytest.raises(TaskError, match="success_threshold"):
        method.fit(tiny_task(None))
    assert method.env_steps == 0  # refused before any interaction


class Recorder:
    """A policy that records the mode it is asked for."""

    def __init__(self) -> None:
        self.modes: set[bool] = set()

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        self.modes.add(deterministic)
        return np.zeros(len(obs), dtype=np.int64)


@pytest.mark.parametrize("deterministic", [True, False])
def test_interaction_acts_in_the_mode_asked_for(deterministic: bool) -> None:
    service = Interaction("CartPole-v1", {}, interaction_seed=3, empty=())  # type: ignore[arg-type]
    policy = Recorder()
    episodes = service.play_episodes(2, policy, deterministic=deterministic)
    assert policy.modes == {deterministic}
    assert service.env_steps == sum(e.length for e in episodes) and service.episodes_played == 2


def test_the_fit_predict_contract() -> None:
    env = make_env("CartPole-v1")
    assert isinstance(BC(env.observation_space, env.action_space), Imitator)

    class External:  # not a Method: anything with fit and predict fulfils the contract
        def fit(self, task): ...
        def predict(self, obs, deterministic=True): ...

    assert isinstance(External(), Imitator)
    assert not isinstance(object(), Imitator)


class SmallBC(BC):
    """A user's method: a subclass is loadable by name without any registration."""

    name = "small-bc"


def test_method_load_finds_any_subclass_by_name(tmp_path) -> None:
    env = make_env("CartPole-v1")
    folder = SmallBC(env.observation_space, env.action_space, {"hidden": [8]}, seed=4).save(
        tmp_path / "small")
    loaded = Method.load(folder)
    assert type(loaded) is SmallBC and loaded.config.hidden == (8,) and loaded.seed == 4
    obs = np.zeros((3, 4), np.float32)
    assert np.array_equal(loaded.predict(obs), SmallBC.load(folder).predict(obs))


@pytest.mark.parametrize("cls", [BC, BCO, ABCO, DAgger])
def test_fewer_demonstrations_are_repeated_within_each_policy_epoch(cls: type[Method]) -> None:
    """With ``demo_repeats=k`` each policy epoch over the demonstrations has k passes of them."""
    env = make_env("CartPole-v1")
    assert cls.repeats_demos
    sizes: dict[int, list[int]] = {}
    for repeats in (1, 3):
        task = dataclasses.replace(tiny_task(1.0), demo_repeats=repeats,
                                   expert_policy=RandomExpert())
        method = cls(env.observation_space, env.action_space, FAST.get(cls.name, {}))
        seen: list[int] = []
        train_epoch = method.train_epoch

        def record(model, optimizer, inputs, targets, _seen=seen, _train=train_epoch,
                   _method=method):
            if model is _method.policy:
                _seen.append(len(inputs))
            return _train(model, optimizer, inputs, targets)

        method.train_epoch = record  # type: ignore[method-assign]
        method.fit(task)
        sizes[repeats] = seen
    n = len(tiny_task(1.0).expert.obs)
    assert sizes[1][0] == n and sizes[3][0] == 3 * n  # the first epoch is over the demonstrations
    with pytest.raises(TaskError, match="demo_repeats must be >= 1"):
        BC(env.observation_space, env.action_space).fit(
            dataclasses.replace(tiny_task(1.0), demo_repeats=0))


class RandomExpert:
    """DAgger's expert for the test: action 0 everywhere."""

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return np.zeros(len(obs), dtype=np.int64)


FAST = {"bc": {"epochs": 1}, "dagger": {"initial_epochs": 1, "iterations": 2,
                                        "episodes_per_iteration": 1, "epochs_per_iteration": 1},
        "bco": {"random_steps": 50, "idm_epochs": 1, "policy_epochs": 1, "post_iterations": 0},
        "abco": {"random_steps": 50, "pretrain_idm_epochs": 1, "iterations": 1,
                 "policy_epochs": 1}}
