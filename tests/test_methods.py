"""IL methods: learning, continuous actions, determinism, checkpoints, configuration, errors."""

from __future__ import annotations

import dataclasses
import json
from functools import partial

import gymnasium as gym
import numpy as np
import pytest
import torch
from method_tasks import TEST, VALIDATION, expert_data, make_task, random_data

from imitation_datasets.core.config import with_overrides
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.names import UnknownNameError
from imitation_datasets.core.rollout import make_env
from imitation_datasets.methods import (
    ABCO,
    BC,
    BCO,
    IUPE,
    METHODS,
    CheckpointError,
    ConfigError,
    Method,
    TrainingLog,
    TrainingTask,
    get_method,
    load_config,
)
from imitation_datasets.methods.networks import ActionModel, mlp

MLP = partial(mlp, hidden=(64, 64))


# Small settings: each method learns CartPole from 20 expert episodes in a few seconds.
SMALL = {
    "bc": {"epochs": 20, "eval_every": 5},
    "bco": {"random_steps": 4000, "idm_epochs": 10, "policy_epochs": 15, "alpha": 0.1,
            "post_iterations": 1, "post_idm_epochs": 2, "post_policy_epochs": 5,
            "eval_every": 5},
    "abco": {"random_steps": 4000, "pretrain_idm_epochs": 5, "iterations": 4,
             "policy_epochs": 4, "interaction_episodes": 4, "eval_every": 4},
    "iupe": {"random_steps": 4000, "pretrain_idm_epochs": 5, "iterations": 4,
             "policy_epochs": 4, "interaction_episodes": 4, "eval_every": 4},
}
# Smoke settings: a handful of gradient steps, for the continuous path and determinism.
TINY = {
    "bc": {"epochs": 2, "eval_every": 1, "eval_episodes": 2},
    "bco": {"random_steps": 600, "idm_epochs": 1, "policy_epochs": 1, "alpha": 0.2,
            "post_iterations": 1, "post_idm_epochs": 1, "post_policy_epochs": 1,
            "eval_every": 1, "eval_episodes": 2},
    "abco": {"random_steps": 600, "pretrain_idm_epochs": 1, "iterations": 2, "policy_epochs": 1,
             "interaction_episodes": 2, "eval_every": 1, "eval_episodes": 2},
    "iupe": {"random_steps": 600, "pretrain_idm_epochs": 1, "iterations": 2, "policy_epochs": 1,
             "interaction_episodes": 2, "eval_every": 1, "eval_episodes": 2},
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cartpole() -> TrainingTask:
    return make_task("CartPole-v1", expert_data("cartpole", 20), VALIDATION,
                     random_data("CartPole-v1", 200), success_threshold=True)


@pytest.fixture(scope="module")
def pendulum() -> TrainingTask:
    return make_task("Pendulum-v1", expert_data("pendulum", 3), VALIDATION[:2],
                     random_data("Pendulum-v1", 2), success_threshold=True)


def build(name: str, env_id: str, overrides: dict, seed: int = 0) -> Method:
    env = make_env(env_id)
    config = with_overrides(load_config(name, env_id), overrides, "test overrides")
    method = get_method(name)(env.observation_space, env.action_space, config, seed=seed)
    env.close()
    return method


def weights(method: Method) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, net in method.networks.items()
            for k, v in net.state_dict().items()}


# ---------------------------------------------------------------------------------- learning
@pytest.mark.parametrize("name", list(SMALL))
def test_method_learns_cartpole(name: str, cartpole: TrainingTask) -> None:
    method = build(name, "CartPole-v1", SMALL[name])
    log = method.fit(cartpole)
    assert log.best_validation_performance >= 0.9, log.to_dict()["records"]
    # The kept weights are the selected ones: replaying the validation seeds gives the same AER.
    replay = evaluate_policy(method, "CartPole-v1", VALIDATION)
    assert replay.mean() == pytest.approx(log.best_validation_aer)
    test = evaluate_policy(method, "CartPole-v1", TEST).mean()
    assert (test - cartpole.random_return) / (cartpole.expert_return - cartpole.random_return) \
        >= 0.9
    json.dumps(log.to_dict())
    # Selection: the latest checkpoint within the tolerance of the best validation AER.
    tolerance = method.config.selection_tolerance * (
        cartpole.expert_return - cartpole.random_return)
    best = max(r.validation_aer for r in log.records)
    near = [r.epoch for r in log.records if r.validation_aer >= best - tolerance]
    assert log.best_epoch == near[-1]
    first = log.records[0]
    assert first.accuracy is not None and 0 <= first.accuracy <= 1
    if name != "bc":
        assert first.idm_accuracy is not None and first.idm_accuracy > 0.9
        assert log.env_steps >= SMALL[name]["random_steps"]
    actions = method.predict(cartpole.expert.obs[:7])
    assert actions.dtype == np.int64 and actions.shape == (7,)
    assert method.predict(cartpole.expert.obs[0]).shape == ()


# ---------------------------------------------------------------------------------- continuous
@pytest.mark.parametrize("name", list(SMALL))
def test_continuous_actions(name: str, pendulum: TrainingTask) -> None:
    method = build(name, "Pendulum-v1", TINY[name])
    log = method.fit(pendulum)
    assert log.records
    obs = pendulum.expert.obs[:50]
    actions = method.predict(obs)
    assert actions.dtype == np.float32 and actions.shape == (50, 1)
    assert np.all(np.abs(actions) <= 2.0)
    assert not np.all(actions == np.round(actions))  # never cast to integers
    assert log.records[-1].accuracy is None
    sampled = method.predict(obs, deterministic=False)
    assert sampled.dtype == np.float32 and np.all(np.abs(sampled) <= 2.0)
    if name == "iupe":  # Gaussian policy: sampling differs from the mean
        assert not np.array_equal(sampled, actions)
        assert "label_mse" in log.records[-1].info


def test_bc_gaussian_loss(pendulum: TrainingTask) -> None:
    method = build("bc", "Pendulum-v1", {**TINY["bc"], "continuous_loss": "gaussian"})
    method.fit(pendulum)
    obs = pendulum.expert.obs[:20]
    assert not np.array_equal(method.predict(obs, deterministic=False), method.predict(obs))


def test_unbounded_and_shifted_spaces() -> None:
    box = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    model = ActionModel(3, box, MLP)
    actions = torch.tensor([[5.0, -7.0]])
    assert torch.equal(model.decode(model.encode(actions)), actions)
    shifted = ActionModel(3, gym.spaces.Discrete(3, start=-1), MLP)
    assert shifted.encode(torch.tensor([-1, 0, 1])).tolist() == [0, 1, 2]
    assert shifted.decode(torch.tensor([0, 2])).tolist() == [-1, 1]


def test_iupe_needs_gaussian_models() -> None:
    env = make_env("Pendulum-v1")
    with pytest.raises(ConfigError, match="gaussian"):
        IUPE(env.observation_space, env.action_space, {"continuous_loss": "mse"})


# ---------------------------------------------------------------------------------- sampling
def test_discrete_sampling_draws_one_number_per_row() -> None:
    model = ActionModel(1, gym.spaces.Discrete(3), MLP)
    probs = torch.tensor([0.7, 0.2, 0.1])
    with torch.no_grad():
        last = model.body[-1]
        last.weight.zero_()
        last.bias.copy_(probs.log())
    draws = model.sample(torch.zeros(20000, 1), torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=3).double() / len(draws)
    assert torch.allclose(freq, probs.double(), atol=0.015)


def test_gaussian_sampling_matches_prediction() -> None:
    box = gym.spaces.Box(-10.0, 10.0, (1,), np.float32)
    model = ActionModel(1, box, MLP, continuous_loss="gaussian")
    with torch.no_grad():
        last = model.body[-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.1, np.log(0.05)]))
    draws = model.sample(torch.zeros(20000, 1), torch.Generator().manual_seed(0))
    assert draws.mean().item() == pytest.approx(0.1, abs=0.003)
    assert draws.std().item() == pytest.approx(0.05, abs=0.003)


def test_abco_resampling_follows_success_rate() -> None:
    env = make_env("CartPole-v1")
    method = ABCO(env.observation_space, env.action_space, seed=0)
    old_x, old_y = torch.zeros(100, 8), torch.zeros(100, dtype=torch.long)
    new_x, new_y = torch.ones(30, 8), torch.ones(30, dtype=torch.long)
    for rate, expected_new in ((0.0, 0), (0.2, 20), (1.0, 30)):
        x, y = method.resample(old_x, old_y, new_x, new_y, rate)
        assert len(x) == 100 and int(y.sum()) == expected_new
        assert int(x[:, 0].sum()) == expected_new


# ---------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("name", list(SMALL))
def test_same_seed_same_weights_and_predictions(name: str, cartpole: TrainingTask,
                                                pendulum: TrainingTask) -> None:
    for env_id, task in (("CartPole-v1", cartpole), ("Pendulum-v1", pendulum)):
        runs = []
        for seed in (3, 3, 4):
            method = build(name, env_id, TINY[name], seed=seed)
            log = method.fit(task)
            runs.append((weights(method), method.predict(task.expert.obs[:100]),
                         [(r.validation_aer, r.train_loss) for r in log.records]))
        (w1, p1, c1), (w2, p2, c2), (w3, _, _) = runs
        assert w1.keys() == w2.keys()
        assert all(torch.equal(w1[k], w2[k]) for k in w1), env_id
        assert np.array_equal(p1, p2) and c1 == c2
        assert not all(torch.equal(w1[k], w3[k]) for k in w1)


def test_global_rng_untouched() -> None:
    env = make_env("CartPole-v1")
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BC(env.observation_space, env.action_space, seed=5)
    assert torch.equal(torch.rand(3), expected)


# ---------------------------------------------------------------------------------- checkpoints
def test_save_load_round_trip(tmp_path, cartpole: TrainingTask) -> None:
    method = build("bco", "CartPole-v1", TINY["bco"], seed=2)
    log = method.fit(cartpole)
    folder = method.save(tmp_path / "bco")
    assert sorted(p.name for p in folder.iterdir()) == ["method.json", "training_log.json",
                                                         "weights.safetensors"]
    for loader in (Method.load, BCO.load):
        loaded = loader(folder)
        assert type(loaded) is BCO and loaded.seed == 2 and loaded.config == method.config
        obs = cartpole.expert.obs
        assert np.array_equal(loaded.predict(obs), method.predict(obs))
        assert all(torch.equal(v, weights(method)[k]) for k, v in weights(loaded).items())
        assert isinstance(loaded.log, TrainingLog) and loaded.log.to_dict() == log.to_dict()


def test_continuous_round_trip(tmp_path) -> None:
    env = make_env("Pendulum-v1")
    method = IUPE(env.observation_space, env.action_space, seed=1)
    loaded = Method.load(method.save(tmp_path / "iupe"))
    obs = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    assert np.array_equal(loaded.predict(obs), method.predict(obs))
    assert loaded.action_space == method.action_space


def test_loading_another_methods_checkpoint_fails(tmp_path) -> None:
    env = make_env("CartPole-v1")
    folder = BC(env.observation_space, env.action_space).save(tmp_path / "bc")
    with pytest.raises(ValueError, match="'bc'.*'abco'") as info:
        ABCO.load(folder)
    assert isinstance(info.value, CheckpointError) and "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="not a method checkpoint"):
        Method.load(tmp_path / "missing")
    description = json.loads((folder / "method.json").read_text())
    (folder / "method.json").write_text(json.dumps({**description, "config": {"lr": "x"}}))
    with pytest.raises(CheckpointError, match="malformed method.json"):
        Method.load(folder)
    (folder / "method.json").write_text(json.dumps(description))
    (folder / "weights.safetensors").write_bytes(b"\x80\x04garbage")
    with pytest.raises(CheckpointError, match="weights"):
        BC.load(folder)


# ---------------------------------------------------------------------------------- names, config
def test_unknown_method_name() -> None:
    assert get_method("BCO") is BCO and get_method("iupe") is IUPE
    with pytest.raises(UnknownNameError) as info:
        get_method("bcoo")
    message = str(info.value)
    assert "\n" not in message and "'bcoo'" in message and "bco" in message
    with pytest.raises(UnknownNameError):
        load_config("gial", "CartPole-v1")


def test_config_files_and_overrides() -> None:
    for name in METHODS:
        defaults = load_config(name)
        for env_id in ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3",
                       "Pendulum-v1", "MountainCarContinuous-v0"):
            assert type(load_config(name, env_id)) is type(defaults)
    assert load_config("bc", "CartPole-v1").epochs != load_config("bc").epochs
    env = make_env("CartPole-v1")
    method = BC(env.observation_space, env.action_space, {"lr": 1})
    assert method.config.lr == 1.0 and isinstance(method.config.lr, float)
    with pytest.raises(ConfigError, match="unknown key 'epoch'.*epochs"):
        BC(env.observation_space, env.action_space, {"epoch": 3})
    with pytest.raises(ConfigError, match="'epochs' must be int"):
        BC(env.observation_space, env.action_space, {"epochs": "3"})
    with pytest.raises(ConfigError, match="'eval_every' must be >= 1"):
        BC(env.observation_space, env.action_space, {"eval_every": 0})
    with pytest.raises(ConfigError, match="idm_input"):
        BCO(env.observation_space, env.action_space, {"idm_input": "sum"})
    with pytest.raises(TypeError, match="Discrete or Box"):
        BC(env.observation_space, gym.spaces.MultiDiscrete([2, 2]))


def test_max_epochs_and_task_checks(cartpole: TrainingTask, pendulum: TrainingTask) -> None:
    method = build("bc", "CartPole-v1", {"epochs": 50, "eval_every": 10, "eval_episodes": 2})
    task = TrainingTask(**{**cartpole.__dict__, "max_epochs": 3})
    log = method.fit(task)
    assert log.epochs == 3 and [r.epoch for r in log.records] == [3]  # last epoch validated
    wrong = dataclasses.replace(pendulum.expert, actions=np.zeros(pendulum.expert.n_steps, int))
    with pytest.raises(ValueError, match="integers"):
        build("bc", "Pendulum-v1", {}).fit(TrainingTask(**{**pendulum.__dict__, "expert": wrong}))
    with pytest.raises(ValueError, match="shape"):
        build("bc", "Pendulum-v1", {}).fit(TrainingTask(**{**pendulum.__dict__,
                                                           "expert": cartpole.expert}))
