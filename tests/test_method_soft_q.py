"""The soft-Q family: SQIL, IQ-Learn offline and online (and their shared soft_q component)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from method_tasks import TEST, VALIDATION, expert_data, make_task

from imitation_datasets.core.config import with_overrides
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import Method, TrainingTask, get_method, load_config
from imitation_datasets.methods import sqil as sqil_module
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.iq_learn import iq_loss
from imitation_datasets.methods.replay import EnvLoop, ReplayBuffer, balanced_batch
from imitation_datasets.methods.soft_q import (
    soft_value,
)

NAMES = ("sqil", "iq_learn_offline", "iq_learn_online")
# Learning CartPole from 10 expert episodes: budgets (env steps online, gradient steps offline).
LEARN = {
    "sqil": {"steps": 6000, "steps_per_epoch": 1500, "learning_starts": 500},
    "iq_learn_offline": {"steps": 1000, "steps_per_epoch": 500},
    "iq_learn_online": {"steps": 12000, "steps_per_epoch": 2000, "learning_starts": 500},
}
TINY = {"steps": 300, "steps_per_epoch": 150, "learning_starts": 100, "batch_size": 32,
        "eval_episodes": 2}


pytestmark = pytest.mark.usefixtures("one_thread")


def soft_q_task(key: str, episodes: int, seeds: list[int]) -> TrainingTask:
    env_id = Experts.get_expert(key).env_id
    return make_task(env_id, expert_data(key, episodes), seeds, interaction_seed=11)


@pytest.fixture(scope="module")
def cartpole() -> TrainingTask:
    return soft_q_task("cartpole", 10, VALIDATION)


@pytest.fixture(scope="module")
def pendulum() -> TrainingTask:
    return soft_q_task("pendulum", 2, VALIDATION[:2])


def make(name: str, task: TrainingTask, overrides: dict, seed: int = 0) -> Method:
    env = make_env(task.env_id)
    config = with_overrides(load_config(name, task.env_id), overrides, "test")
    method = get_method(name)(env.observation_space, env.action_space, config, seed=seed)
    env.close()
    return method


# ---------------------------------------------------------------------------------- losses
def test_soft_value() -> None:
    q = torch.tensor([[0.0, math.log(3.0)]])
    assert soft_value(q, 1.0).item() == pytest.approx(math.log(4.0))
    assert soft_value(q, 0.5).item() == pytest.approx(0.5 * math.log(10.0))
    assert soft_value(torch.tensor([[1.0, 5.0]]), 1e-3).item() == pytest.approx(5.0, abs=1e-6)


def test_iq_loss_hand_computed() -> None:
    # Two rows: an expert one (s' not terminal) and an agent one (s' terminal); gamma 0.5, c 0.5.
    q, v, next_v = torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5]), torch.tensor([1.0, 2.0])
    dones, is_expert = torch.tensor([0.0, 1.0]), torch.tensor([True, False])
    # y = gamma (1 - done) V(s') = [0.5, 0]; Q - y = [0.5, 2]; V - y = [1, 2.5]
    # expert term -0.5; chi^2 1/(4 c) mean((Q - y)^2): expert rows 0.125, all rows 1.0625;
    # value term: all rows 1.75, expert rows 1.0.
    loss, terms = iq_loss(q, v, next_v, dones, is_expert, 0.5, 0.5, "all", "expert")
    assert loss.item() == pytest.approx(-0.5 + 0.125 + 1.75)
    assert terms == pytest.approx({"expert_term": -0.5, "chi2_term": 0.125, "value_term": 1.75})
    loss, _ = iq_loss(q, v, next_v, dones, is_expert, 0.5, 0.5, "all", "all")
    assert loss.item() == pytest.approx(-0.5 + 1.0625 + 1.75)
    loss, _ = iq_loss(q, v, next_v, dones, is_expert, 0.5, 0.5, "expert", "expert")
    assert loss.item() == pytest.approx(-0.5 + 0.125 + 1.0)
    # Gradient of the expert-only loss w.r.t. Q: d/dQ0 [-(Q0 - y0) + (Q0 - y0)^2 / 2] = -1 + 0.5
    q.requires_grad_(True)
    iq_loss(q, v, next_v, dones, is_expert, 0.5, 0.5, "expert", "expert")[0].backward()
    assert q.grad is not None and q.grad.tolist() == pytest.approx([-0.5, 0.0])


# ---------------------------------------------------------------------------------- SQIL data
def test_balanced_batch_is_half_expert_half_agent() -> None:
    demo = ReplayBuffer.of(torch.ones((10, 3)), torch.zeros(10, dtype=torch.long),
                           torch.full((10,), sqil_module.EXPERT_REWARD), torch.ones((10, 3)),
                           torch.zeros(10))
    samp = ReplayBuffer(50, 3, 1, discrete=True)
    samp.add(-torch.ones((7, 3)), torch.ones(7, dtype=torch.long),
             torch.full((7,), sqil_module.AGENT_REWARD), -torch.ones((7, 3)), torch.zeros(7))
    assert len(samp) == 7
    batch = balanced_batch(demo, samp, 64, torch.Generator().manual_seed(0))
    obs, _, rewards, _, _ = batch
    assert len(obs) == 64
    assert torch.all(obs[:32] == 1) and torch.all(rewards[:32] == 1.0)
    assert torch.all(obs[32:] == -1) and torch.all(rewards[32:] == 0.0)
    again = balanced_batch(demo, samp, 64, torch.Generator().manual_seed(0))
    assert all(torch.equal(x, y) for x, y in zip(batch, again, strict=True))


def test_replay_buffer_is_a_ring() -> None:
    buffer = ReplayBuffer(4, 1, 1, discrete=False)
    rows = torch.arange(6.0).view(-1, 1)
    buffer.add(rows, rows, rows.view(-1), rows, torch.zeros(6))
    assert len(buffer) == 4 and buffer.obs.view(-1).tolist() == [4.0, 5.0, 2.0, 3.0]
    buffer.add(rows[:1] + 10, rows[:1], rows[0], rows[:1], torch.zeros(1))  # the oldest goes
    assert buffer.obs.view(-1).tolist() == [4.0, 5.0, 10.0, 3.0]


def test_sqil_labels_expert_1_agent_0(cartpole: TrainingTask, monkeypatch) -> None:
    seen: list[tuple[torch.Tensor, ...]] = []

    def recording(*args, **kwargs):
        batch = balanced_batch(*args, **kwargs)
        seen.append(batch)
        return batch

    monkeypatch.setattr(sqil_module, "balanced_batch", recording)
    method = make("sqil", cartpole, {**TINY, "eval_every": 2})
    log = method.fit(cartpole)
    assert len(seen) == TINY["steps"] - TINY["learning_starts"]
    assert log.env_steps == TINY["steps"]
    expert_rows = {tuple(r) for r in cartpole.expert.obs.astype(np.float32).tolist()}
    for obs, _, rewards, _, _ in seen[:5]:
        half = TINY["batch_size"] // 2
        assert torch.all(rewards[:half] == 1.0) and torch.all(rewards[half:] == 0.0)
        assert all(tuple(r) in expert_rows for r in obs[:half].tolist())


def test_env_loop_seeds_and_counts() -> None:
    env = make_env("CartPole-v1")
    first, _ = env.reset(seed=episode_seed(5, 0, 0))
    service = Interaction("CartPole-v1", {}, 5, empty=(torch.zeros(0),) * 3)
    method = get_method("sqil")(env.observation_space, env.action_space, seed=0)
    loop = EnvLoop(service, method.policy)
    s, _, _, _ = loop.step(lambda s: torch.zeros(1, dtype=torch.long))
    assert np.array_equal(s[0].numpy(), first.astype(np.float32))
    while service.episodes_played < 2:
        loop.step(lambda s: torch.zeros(1, dtype=torch.long))
    assert service.env_steps == int(loop.returns[0]) + 1  # reward 1 per CartPole step
    loop.close()


# ---------------------------------------------------------------------------------- learning
@pytest.mark.slow  # 1-25 s each alone on one core; much more on a busy machine
@pytest.mark.parametrize("name", NAMES)
def test_learns_cartpole(name: str, cartpole: TrainingTask) -> None:
    method = make(name, cartpole, {**LEARN[name], "eval_episodes": 5})
    log = method.fit(cartpole)
    assert log.best_validation_performance is not None
    assert log.best_validation_performance >= 0.9, [r.validation_aer for r in log.records]
    test = evaluate_policy(method, "CartPole-v1", TEST).mean()
    span = cartpole.expert_return - cartpole.random_return
    assert (test - cartpole.random_return) / span >= 0.9
    assert log.env_steps == (0 if name == "iq_learn_offline" else LEARN[name]["steps"])
    assert method.predict(cartpole.expert.obs[:7]).dtype == np.int64


# ---------------------------------------------------------------------------------- continuous
@pytest.mark.parametrize("name", NAMES)
def test_continuous_smoke(name: str, pendulum: TrainingTask) -> None:
    method = make(name, pendulum, TINY)
    log = method.fit(pendulum)
    assert log.records and sorted(method.networks) == ["critic", "policy"]
    obs = pendulum.expert.obs[:50]
    actions = method.predict(obs)
    assert actions.dtype == np.float32 and actions.shape == (50, 1)
    assert np.all(np.abs(actions) <= 2.0) and not np.all(actions == np.round(actions))
    sampled = method.predict(obs, deterministic=False)
    assert np.all(np.abs(sampled) <= 2.0) and not np.array_equal(sampled, actions)
    assert log.env_steps == (0 if name == "iq_learn_offline" else TINY["steps"])


@pytest.mark.parametrize("name", ["sqil", "iq_learn_online"])
def test_running_normaliser_follows_the_agent_states(name: str, pendulum: TrainingTask) -> None:
    """``obs_normaliser: running``: every state the agent visited is pooled, and each validated
    network normalises with the pooled statistics (the critics' state part is the actor's)."""
    method = make(name, pendulum, {**TINY, "obs_normaliser": "running"})
    log = method.fit(pendulum)
    run = method._run
    assert run is not None and run.moments is not None and run.samp is not None
    states = run.samp.obs[:len(run.samp)].double()
    assert run.moments.count == TINY["steps"] == len(run.samp)
    torch.testing.assert_close(run.moments.mean, states.mean(0))
    torch.testing.assert_close(run.moments.std(), states.std(0, correction=0))
    actor, critic = method.networks["policy"].normaliser, method.networks["critic"].normaliser
    seen = states[:TINY["steps_per_epoch"] * log.best_epoch]  # up to the selected epoch's end
    torch.testing.assert_close(actor.mean, seen.mean(0).float())
    torch.testing.assert_close(actor.std, seen.std(0, correction=0).float())
    assert torch.equal(critic.std[:3], actor.std) and torch.equal(critic.std[3:], torch.ones(1))
    expert = make(name, pendulum, TINY)
    expert.fit(pendulum)
    assert not torch.equal(expert.networks["policy"].normaliser.mean, actor.mean)


def test_offline_iq_learn_refuses_a_running_normaliser(pendulum: TrainingTask) -> None:
    method = make("iq_learn_offline", pendulum, {**TINY, "obs_normaliser": "running"})
    with pytest.raises(ConfigError, match="offline method has none") as info:
        method.fit(pendulum)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------- determinism
def weights(method: Method) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, net in method.networks.items()
            for k, v in net.state_dict().items()}


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_numbers(name: str, cartpole: TrainingTask,
                                pendulum: TrainingTask) -> None:
    for task in (cartpole, pendulum):
        runs = []
        for seed in (3, 3, 4):
            method = make(name, task, {**TINY, "steps": 200, "learning_starts": 50})
            method = type(method)(method.observation_space, method.action_space, method.config,
                                  seed=seed)
            log = method.fit(task)
            runs.append((weights(method), method.predict(task.expert.obs[:100]),
                         [(r.validation_aer, r.train_loss, r.env_steps) for r in log.records]))
        (w1, p1, c1), (w2, p2, c2), (w3, _, _) = runs
        assert all(torch.equal(w1[k], w2[k]) for k in w1), task.env_id
        assert np.array_equal(p1, p2) and c1 == c2
        assert not all(torch.equal(w1[k], w3[k]) for k in w1)


# ---------------------------------------------------------------------------------- errors
def test_bad_settings_are_one_line_errors() -> None:
    env = make_env("CartPole-v1")
    for bad in ({"tau": 0.0}, {"steps": 0}, {"gamma": 1.0}):
        with pytest.raises(ConfigError) as info:
            get_method("sqil")(env.observation_space, env.action_space, bad)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="chi2_states"):
        get_method("iq_learn_online")(env.observation_space, env.action_space,
                                      {"chi2_states": "some"})


def test_save_load_round_trip(tmp_path, pendulum: TrainingTask) -> None:
    method = make("iq_learn_online", pendulum, TINY, seed=2)
    method.fit(pendulum)
    loaded = Method.load(method.save(tmp_path / "iq"))
    assert type(loaded) is type(method) and loaded.config == method.config
    obs = pendulum.expert.obs[:20]
    assert np.array_equal(loaded.predict(obs), method.predict(obs))
