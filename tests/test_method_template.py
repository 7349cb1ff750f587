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
