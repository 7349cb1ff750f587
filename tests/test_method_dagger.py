"""DAgger: learns CartPole, queries the expert at the learner's states, continuous path, reruns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from method_tasks import TEST, VALIDATION, expert_data, make_task

from imitation_datasets.core.acting import batch_actions
from imitation_datasets.core.config import with_overrides
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.rollout import make_env
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import (
    Method,
    TaskError,
    TrainingTask,
    get_method,
    load_config,
)
from imitation_datasets.methods.dagger import DAgger, DAggerConfig, Mixture

SMALL = {"initial_epochs": 4, "iterations": 3, "episodes_per_iteration": 4,
         "epochs_per_iteration": 3, "eval_every": 2, "eval_episodes": 5}
TINY = {"initial_epochs": 1, "iterations": 2, "episodes_per_iteration": 2,
        "epochs_per_iteration": 1, "eval_every": 1, "eval_episodes": 2}


class Recorder:
    """The expert, recording every observation it is asked about."""

    def __init__(self, expert) -> None:
        self.expert = expert
        self.asked: list[np.ndarray] = []

    def predict(self, obs, deterministic=True):
        self.asked.append(np.array(obs, dtype=np.float32).reshape(len(obs), -1))
        return self.expert.predict(obs, deterministic)


pytestmark = pytest.mark.usefixtures("one_thread")


def dagger_task(key: str, episodes: int, seeds: list[int]) -> TrainingTask:
    expert = Experts.get_expert(key).load()
    return make_task(expert.env_id, expert_data(key, episodes), seeds, expert_policy=expert)


@pytest.fixture(scope="module")
def cartpole() -> TrainingTask:
    return dagger_task("cartpole", 10, VALIDATION)


@pytest.fixture(scope="module")
def pendulum() -> TrainingTask:
    return dagger_task("pendulum", 3, VALIDATION[:2])


def build(env_id: str, overrides: dict, seed: int = 0) -> DAgger:
    env = make_env(env_id)
    config = with_overrides(load_config("dagger", env_id), overrides, "test overrides")
    method = DAgger(env.observation_space, env.action_space, config, seed=seed)
    env.close()
    return method


def rows(x: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in np.ascontiguousarray(x, dtype=np.float32)}


def test_dagger_learns_cartpole_querying_the_expert_at_the_learners_states(
        cartpole: TrainingTask) -> None:
    # beta_decay 0: after the demonstrations only the learner acts, so the expert is asked only
    # to label, and every state it is asked about is one the learner visited.
    recorder = Recorder(cartpole.expert_policy)
    method = build("CartPole-v1", {**SMALL, "beta_decay": 0.0})
    log = method.fit(dataclasses.replace(cartpole, expert_policy=recorder))
    assert get_method("dagger") is DAgger
    assert log.best_validation_performance >= 0.9, log.to_dict()["records"]
    test = evaluate_policy(method, "CartPole-v1", TEST).mean()
    assert (test - cartpole.random_return) / (cartpole.expert_return - cartpole.random_return) \
        >= 0.9
    asked = np.concatenate(recorder.asked)
    # Labelling queries every visited state once; the interaction service counted them all.
    assert len(asked) == log.env_steps == method.env_steps > 0
    assert len(recorder.asked) == SMALL["iterations"] - 1
    new = rows(asked) - rows(cartpole.expert.obs)
    assert len(new) == len(rows(asked)) > 0  # none of them is a demonstration state
    assert [r.info["beta"] for r in log.records if r.iteration > 0] \
        and all(r.info["beta"] == 0.0 and r.info["expert_step_share"] == 0.0
                for r in log.records if r.iteration > 0)
    assert log.records[-1].info["dataset_size"] == len(cartpole.expert.obs) + log.env_steps


def test_mixture_follows_beta_with_seeded_coins() -> None:
    obs = np.random.default_rng(0).normal(size=(4000, 4)).astype(np.float32)
    expert = Recorder(Experts.get_expert("cartpole"))

    class Constant:
        def predict(self, x, deterministic=True):
            return np.full(len(x), 7, np.int64)

    def run(beta: float, seed: int = 3) -> np.ndarray:
        return Mixture(expert, Constant(), beta, np.random.default_rng(seed)).predict(obs)

    assert np.all(run(0.0) == 7) and not expert.asked
    assert np.array_equal(run(1.0), batch_actions(expert.expert, obs))
    half = run(0.5)
    share = float(np.mean(half != 7))
    assert 0.45 < share < 0.55
    assert np.array_equal(half, run(0.5)) and not np.array_equal(half, run(0.5, seed=4))


def test_continuous_actions(pendulum: TrainingTask, tmp_path) -> None:
    method = build("Pendulum-v1", TINY)
    log = method.fit(pendulum)
    loaded = Method.load(method.save(tmp_path / "dagger"))
    assert isinstance(loaded, DAgger) and loaded.config == method.config
    assert np.array_equal(loaded.predict(pendulum.expert.obs), method.predict(pendulum.expert.obs))
    assert log.env_steps == 2 * 200 and log.records
    assert log.records[-1].info["beta"] == 0.5
    actions = method.predict(pendulum.expert.obs[:50])
    assert actions.dtype == np.float32 and actions.shape == (50, 1)
    assert np.all(np.abs(actions) <= 2.0) and not np.all(actions == np.round(actions))


def test_same_seed_same_numbers(cartpole: TrainingTask, pendulum: TrainingTask) -> None:
    for env_id, task in (("CartPole-v1", cartpole), ("Pendulum-v1", pendulum)):
        runs = []
        for seed in (3, 3, 4):
            method = build(env_id, {**TINY, "beta_decay": 0.5}, seed=seed)
            log = method.fit(task)
            runs.append(([v.clone() for v in method.policy.state_dict().values()],
                         method.predict(task.expert.obs[:100]),
                         [(r.validation_aer, r.train_loss, r.info) for r in log.records],
                         log.env_steps))
        (w1, p1, c1, n1), (w2, p2, c2, n2), (w3, _, c3, _) = runs
        assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True)), env_id
        assert np.array_equal(p1, p2) and c1 == c2 and n1 == n2
        assert not all(torch.equal(a, b) for a, b in zip(w1, w3, strict=True))


def test_bad_input(cartpole: TrainingTask) -> None:
    with pytest.raises(TaskError, match="expert_policy") as info:
        build("CartPole-v1", TINY).fit(dataclasses.replace(cartpole, expert_policy=None))
    assert "\n" not in str(info.value)
    for bad in ({"beta_decay": 1.5}, {"iterations": 0}, {"epochs_per_iteration": -1}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            DAggerConfig(**bad)
    assert type(load_config("dagger", "CartPole-v1")) is DAggerConfig
