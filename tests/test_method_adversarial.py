"""GAIL, GAIfO, AIRL and their PPO learner: learning, losses on known inputs, determinism."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from method_tasks import TEST, VALIDATION, expert_data, make_task

from imitation_datasets.core.config import with_overrides
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.rollout import make_env
from imitation_datasets.methods import Method, TrainingTask, get_method, load_config
from imitation_datasets.methods.airl import AIRL, AIRLConfig, AIRLDiscriminator
from imitation_datasets.methods.discriminator import (
    Discriminator,
    absorbing_reward,
    discriminator_loss,
    gradient_penalty,
    reward_from_logits,
    with_absorbing,
)
from imitation_datasets.methods.gail import GAIL
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.networks import StateMoments
from imitation_datasets.methods.ppo import (
    PPO,
    PPOConfig,
    ReturnScale,
    Rollout,
    clipped_surrogate,
    gae,
    log_prob_entropy,
    policy_network,
)

ADVERSARIAL = ("gail", "gaifo", "airl")

# CartPole from 10 expert episodes: 10 PPO iterations of 8 x 256 steps (about 5-10 s each).
SMALL = {"total_steps": 20480, "eval_every": 2, "eval_episodes": 5}
# Smoke: two iterations of 2 x 256 steps.
TINY = {"total_steps": 1024, "n_envs": 2, "n_steps": 256, "ppo_epochs": 2, "eval_every": 1,
        "eval_episodes": 2}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cartpole() -> TrainingTask:
    return make_task("CartPole-v1", expert_data("cartpole", 10), VALIDATION)


@pytest.fixture(scope="module")
def pendulum() -> TrainingTask:
    return make_task("Pendulum-v1", expert_data("pendulum", 3), VALIDATION[:2])


def build(name: str, env_id: str, overrides: dict, seed: int = 0) -> Method:
    env = make_env(env_id)
    config = with_overrides(load_config(name, env_id), overrides, "test overrides")
    method = get_method(name)(env.observation_space, env.action_space, config, seed=seed)
    env.close()
    return method


# ---------------------------------------------------------------------------------- learning
@pytest.mark.slow
@pytest.mark.parametrize("name", ADVERSARIAL)
def test_learns_cartpole(name: str, cartpole: TrainingTask) -> None:
    """Each method reaches the expert (>= 0.9 performance) within 20k environment steps."""
    method = build(name, "CartPole-v1", SMALL)
    log = method.fit(cartpole)
    assert log.best_validation_performance >= 0.9, [r.validation_aer for r in log.records]
    assert log.env_steps == 20480  # 10 iterations x 8 envs x 256 steps, validation not counted
    test = evaluate_policy(method, "CartPole-v1", TEST).mean()
    assert (test - cartpole.random_return) / (cartpole.expert_return - cartpole.random_return) \
        >= 0.9
    info = log.records[-1].info
    assert {"disc_loss", "disc_expert_accuracy", "policy_loss", "entropy"} <= set(info)


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_continuous_actions(name: str, pendulum: TrainingTask) -> None:
    method = build(name, "Pendulum-v1", {**TINY, "grad_penalty": 10.0} if name == "gaifo"
                   else TINY)
    log = method.fit(pendulum)
    assert log.env_steps == 1024 and len(log.records) == 2
    obs = pendulum.expert.obs[:50]
    actions = method.predict(obs)
    assert actions.dtype == np.float32 and actions.shape == (50, 1)
    assert np.all(np.abs(actions) <= 2.0)
    sampled = method.predict(obs, deterministic=False)
    assert np.all(np.abs(sampled) <= 2.0) and not np.array_equal(sampled, actions)


def test_identical_rerun(cartpole: TrainingTask) -> None:
    runs = []
    for seed in (3, 3, 4):
        method = build("gail", "CartPole-v1", {**TINY, "grad_penalty": 10.0}, seed=seed)
        log = method.fit(cartpole)
        weights = {k: v.clone() for k, v in method.policy.state_dict().items()}
        runs.append((weights, [(r.validation_returns, r.info) for r in log.records]))
    (w0, r0), (w1, r1), (w2, _) = runs
    assert r0 == r1
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert not all(torch.equal(w0[k], w2[k]) for k in w0)


def test_save_load_round_trip(tmp_path, pendulum: TrainingTask) -> None:
    method = build("airl", "Pendulum-v1", TINY)
    method.fit(pendulum)
    loaded = Method.load(method.save(tmp_path / "airl"))
    assert isinstance(loaded, AIRL)
    obs = pendulum.expert.obs[:20]
    np.testing.assert_array_equal(loaded.predict(obs), method.predict(obs))


# ---------------------------------------------------------------------------------- discriminator
def test_discriminator_loss_on_known_inputs() -> None:
    # A perfectly separating D: loss 0; an undecided one: log 2; D = 0.8 on the expert and
    # 0.3 on the policy: the mean of -log 0.8 and -log 0.7.
    assert float(discriminator_loss(torch.tensor([30.0]), torch.tensor([-30.0]))) < 1e-12
    assert float(discriminator_loss(torch.zeros(4), torch.zeros(3))) == pytest.approx(math.log(2))
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    loss = discriminator_loss(torch.tensor([logit(0.8)]), torch.tensor([logit(0.3)]))
    assert float(loss) == pytest.approx(0.5 * (-math.log(0.8) - math.log(0.7)), rel=1e-6)
    # Wrong way round: large.
    assert float(discriminator_loss(torch.tensor([-30.0]), torch.tensor([30.0]))) > 29


def test_reward_forms_sign_and_monotonicity() -> None:
    logits = torch.linspace(-6, 6, 25, dtype=torch.float64)
    d = torch.sigmoid(logits)
    positive = reward_from_logits(logits, "positive")
    negative = reward_from_logits(logits, "negative")
    torch.testing.assert_close(positive, -torch.log(1 - d))
    torch.testing.assert_close(negative, torch.log(d))
    torch.testing.assert_close(reward_from_logits(logits, "logit"), torch.log(d) - torch.log(1 - d))
    assert torch.all(positive > 0) and torch.all(negative < 0)
    for r in (positive, negative):
        assert torch.all(r[1:] > r[:-1])  # more expert-like, more reward


def test_gradient_penalty_of_a_linear_discriminator() -> None:
    w = torch.tensor([3.0, 4.0])  # ||grad|| = 5 everywhere: penalty (5 - 1)^2
    expert, policy = torch.randn(8, 2), torch.randn(8, 2)
    penalty = gradient_penalty(lambda x: x @ w, expert, policy, torch.Generator().manual_seed(0))
    assert float(penalty) == pytest.approx(16.0)


def test_discriminator_inputs() -> None:
    disc = Discriminator(3, 2, "state-action", True, (8,), "tanh")
    s, s_next = torch.randn(5, 3), torch.randn(5, 3)
    features = disc.features(s, torch.tensor([0, 1, 1, 0, 1]), s_next)
    assert features.shape == (5, 5)
    torch.testing.assert_close(features[:, 3:], torch.tensor([[1., 0], [0, 1], [0, 1], [1, 0],
                                                                [0, 1]]))
    state_only = Discriminator(3, 2, "state-state", True, (8,), "tanh")
    torch.testing.assert_close(state_only.features(s, torch.zeros(5), s_next),
                               torch.cat([s, s_next], -1))  # identity normaliser


def constant_airl(absorbing: bool = False) -> AIRLDiscriminator:
    """AIRL over a uniform 4-action policy (log pi = -log 4), g = 2, h = 5, gamma = 0.9."""
    policy = policy_network(3, gym.spaces.Discrete(4), PPOConfig())
    with torch.no_grad():
        for p in policy.parameters():
            p.zero_()
    disc = AIRLDiscriminator(policy, 3, 0.9, (8,), "tanh", absorbing=absorbing)
    with torch.no_grad():
        for net, value in ((disc.g, 2.0), (disc.h, 5.0)):
            for p in net.parameters():
                p.zero_()
            net[-1].bias.fill_(value)
    return disc


def test_airl_logits_are_f_minus_log_pi() -> None:
    disc = constant_airl()
    s, a = torch.randn(2, 3), torch.tensor([0, 3])
    logits = disc(s, a, torch.randn(2, 3), torch.tensor([0.0, 1.0]))
    # f = g + gamma (1 - done) h' - h: 2 + 0.9 * 5 - 5 and 2 - 5 (h' masked after termination)
    torch.testing.assert_close(logits, torch.tensor([1.5, -3.0]) + math.log(4))


def test_airl_refuses_other_reward_forms() -> None:
    with pytest.raises(ConfigError, match="airl") as info:
        AIRLConfig(reward="positive")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError):
        build("airl", "CartPole-v1", {"grad_penalty": 1.0})


# ---------------------------------------------------------------------------------- absorbing
def test_with_absorbing_adds_dac_transitions() -> None:
    s, s_next = torch.arange(6.0).reshape(3, 2), torch.arange(6.0).reshape(3, 2) + 10
    a, terminated = torch.tensor([1, 0, 1]), torch.tensor([0.0, 1.0, 1.0])
    s2, a2, n2, t2 = with_absorbing((s, a, s_next, terminated))
    # Own rows keep their order with indicator 0; a terminating step leads to [0, 0, 1];
    # one (s_a, 0, s_a) row per terminating step follows.
    absorbing = torch.tensor([0.0, 0.0, 1.0])
    torch.testing.assert_close(s2, torch.stack([torch.tensor([0.0, 1, 0]), torch.tensor(
        [2.0, 3, 0]), torch.tensor([4.0, 5, 0]), absorbing, absorbing]))
    torch.testing.assert_close(n2, torch.stack([torch.tensor([10.0, 11, 0]), absorbing,
                                                absorbing, absorbing, absorbing]))
    assert a2.tolist() == [1, 0, 1, 0, 0] and t2.tolist() == [0.0] * 5
    # Nothing terminates: only the indicator column is added.
    s3, _, n3, t3 = with_absorbing((s, a, s_next, torch.zeros(3)))
    assert s3.shape == (3, 3) and torch.equal(n3[:, :2], s_next) and not t3.any()


def test_absorbing_state_features_ignore_normalisation_and_action() -> None:
    for pair, width in (("state-action", 3 + 1 + 2), ("state-state", 2 * (3 + 1))):
        disc = Discriminator(3, 2, pair, True, (8,), "tanh", absorbing=True)
        disc.normaliser.mean.fill_(5.0)
        state = torch.tensor([[1.0, 2.0, 3.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
        features = disc.features(state, torch.tensor([1, 1]), state)
        assert features.shape == (2, width)
        # An environment state: (s - 5) and indicator 0; the absorbing one: zeros, then 1.
        torch.testing.assert_close(features[0, :4], torch.tensor([-4.0, -3, -2, 0]))
        torch.testing.assert_close(features[1], torch.tensor(
            [0.0, 0, 0, 1, 0, 0] if pair == "state-action" else [0.0, 0, 0, 1] * 2))


def test_terminating_steps_get_the_absorbing_loop_return() -> None:
    method = build("gail", "CartPole-v1", {"absorbing": True, "reward": "logit",
                                           "gamma": 0.9})
    assert isinstance(method, GAIL)
    disc = method.make_discriminator()
    batch = (torch.randn(4, 4), torch.tensor([0, 1, 1, 0]), torch.randn(4, 4),
             torch.tensor([0.0, 0.0, 1.0, 0.0]))
    with torch.no_grad():
        rewards = method.policy_rewards(disc, batch)
        own = disc(*with_absorbing(batch))[:4]
        loop = disc(torch.tensor([[0.0] * 4 + [1.0]]), torch.zeros(1), torch.tensor(
            [[0.0] * 4 + [1.0]]), torch.zeros(1))
    # r(s_a) forever from the next step on: gamma r / (1 - gamma) = 9 r.
    assert float(absorbing_reward(loop, 0.9)) == pytest.approx(9 * float(loop))
    torch.testing.assert_close(rewards, own + torch.tensor([0.0, 0, 1, 0]) * 9 * loop)


def test_airl_absorbing_state_has_log_pi_zero_and_unmasked_shaping() -> None:
    disc = constant_airl(absorbing=True)
    batch = with_absorbing((torch.randn(2, 3), torch.tensor([0, 3]), torch.randn(2, 3),
                            torch.tensor([0.0, 1.0])))
    logits = disc(*batch)
    # f = 2 + 0.9 * 5 - 5 on every row (h(s_a) is not masked); -log pi = log 4 except at s_a.
    torch.testing.assert_close(logits, torch.tensor([1.5 + math.log(4), 1.5 + math.log(4), 1.5]))


# Where the configs switch absorbing states on (measured on LunarLander; see the yaml comments).
ABSORBING_ON = {"gail": set(), "gaifo": {"LunarLander-v3"}, "airl": set()}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_absorbing_runs_and_is_off_by_default(name: str, cartpole: TrainingTask,
                                              pendulum: TrainingTask) -> None:
    for env_id in ("CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Pendulum-v1",
                   "MountainCar-v0", "MountainCarContinuous-v0"):
        assert load_config(name, env_id).absorbing == (env_id in ABSORBING_ON[name])
    for env_id, task in (("CartPole-v1", cartpole), ("Pendulum-v1", pendulum)):
        method = build(name, env_id, {**TINY, "absorbing": True})
        log = method.fit(task)
        assert log.env_steps == 1024 and all(math.isfinite(r.info["disc_reward"])
                                             for r in log.records)


# ---------------------------------------------------------------------------------- PPO
def test_state_moments_pool_batches_as_one() -> None:
    data = torch.randn(700, 3, dtype=torch.float64) * torch.tensor([1e-3, 1.0, 50.0]) + 7
    moments = StateMoments(3)
    for part in (data[:1], data[1:300], data[300:]):
        moments.update(part.float())
    pooled = data.float().double()
    torch.testing.assert_close(moments.mean, pooled.mean(0))
    torch.testing.assert_close(moments.std(), pooled.std(0, correction=0))
    assert moments.count == 700


@pytest.mark.parametrize("mode", ["expert", "running"])
def test_running_normaliser_follows_the_visited_states(mode: str) -> None:
    """``obs_normaliser: running``: after each update the policy and critic normalise with the
    moments of every state the rollouts visited; ``expert`` keeps the expert's."""
    config = PPOConfig(n_envs=2, n_steps=64, ppo_epochs=1, obs_normaliser=mode)
    env = make_env("Pendulum-v1")
    policy = policy_network(3, env.action_space, config)
    env.close()
    policy.normaliser.fit(torch.tensor([[1.0, 0.0, 0.0], [0.9, 0.1, 0.5]]))  # "the expert's"
    expert_stats = {k: v.clone() for k, v in policy.normaliser.state_dict().items()}
    ppo = PPO(policy, config, Interaction("Pendulum-v1", {}, 5, empty=(torch.zeros(0),) * 3),
              torch.Generator().manual_seed(0), init_seed=1)
    seen = []
    for _ in range(2):
        rollout = ppo.collect()
        seen.append(Rollout.flat(rollout.obs))
        ppo.update(rollout, torch.zeros(rollout.dones.shape))
    ppo.close()
    if mode == "expert":
        now = policy.normaliser.state_dict()
        assert all(torch.equal(now[k], v) for k, v in expert_stats.items())
        return
    states = torch.cat(seen).double()
    torch.testing.assert_close(policy.normaliser.mean, states.mean(0).float())
    torch.testing.assert_close(policy.normaliser.std, states.std(0, correction=0).float())
    assert torch.equal(ppo.critic.normaliser.std, policy.normaliser.std)
    assert "state_moments" in ppo.state()


def test_clipped_surrogate_hand_computed() -> None:
    # ratios 1.5, 0.5, 1.1, 0.5 with advantages 1, 1, -1, -1 and eps = 0.2:
    # min(1.5, 1.2) = 1.2; min(0.5, 0.8) = 0.5; min(-1.1, -1.1) = -1.1; min(-0.5, -0.8) = -0.8
    ratios = torch.tensor([1.5, 0.5, 1.1, 0.5], dtype=torch.float64)
    old = torch.tensor([-1.0, -2.0, -0.5, -3.0], dtype=torch.float64)
    advantages = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    loss = clipped_surrogate(old + torch.log(ratios), old, advantages, 0.2)
    assert float(loss) == pytest.approx(-(1.2 + 0.5 - 1.1 - 0.8) / 4)


def test_gae_hand_computed() -> None:
    # Two steps in one env, gamma = 0.5, lambda = 0.5, V(s) = 0, V(s') = 2.
    rewards, values, next_values = torch.ones(2, 1), torch.zeros(2, 1), torch.full((2, 1), 2.0)
    # Step 1 terminates: delta_1 = 1, A_1 = 1; delta_0 = 1 + 0.5 * 2 = 2, A_0 = 2 + 0.25 * 1.
    terminated = torch.tensor([[0.0], [1.0]])
    adv = gae(rewards, values, next_values, terminated, terminated, 0.5, 0.5)
    torch.testing.assert_close(adv, torch.tensor([[2.25], [1.0]]))
    # Step 1 is truncated instead: it bootstraps V(s') = 2 (delta_1 = 2).
    adv = gae(rewards, values, next_values, torch.zeros(2, 1), terminated, 0.5, 0.5)
    torch.testing.assert_close(adv, torch.tensor([[2.5], [2.0]]))
    # The episode goes on after the rollout: V(s') of the last step, no special case.
    adv = gae(rewards, values, next_values, torch.zeros(2, 1), torch.zeros(2, 1), 0.5, 0.5)
    torch.testing.assert_close(adv, torch.tensor([[2.5], [2.0]]))


def test_log_probabilities_match_torch_distributions() -> None:
    torch.manual_seed(0)
    x = torch.randn(6, 3)
    discrete = policy_network(3, gym.spaces.Discrete(3), PPOConfig())
    targets = torch.tensor([0, 1, 2, 2, 1, 0])
    log_p, entropy = log_prob_entropy(discrete, x, targets)
    dist = torch.distributions.Categorical(logits=discrete(x))
    torch.testing.assert_close(log_p, dist.log_prob(targets))
    torch.testing.assert_close(entropy, dist.entropy())
    box = gym.spaces.Box(-2.0, 2.0, (2,), np.float32)
    continuous = policy_network(3, box, PPOConfig(init_log_std=-0.5))
    mean, log_std = continuous(x).split(2, -1)
    targets = torch.randn(6, 2)
    log_p, entropy = log_prob_entropy(continuous, x, targets)
    dist = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(log_p, dist.log_prob(targets).sum(-1))
    torch.testing.assert_close(entropy, dist.entropy().sum(-1))


def test_configs_load_for_every_env() -> None:
    for name in ADVERSARIAL:
        for env_id in ("CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Pendulum-v1"):
            config = load_config(name, env_id)
            assert config.total_steps >= 1
    assert isinstance(get_method("GAIL")(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2)),
                      GAIL)


def test_return_scale_pools_discounted_returns() -> None:
    scale = ReturnScale(2, 0.5)
    rewards = torch.tensor([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    dones = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    first = scale(rewards, dones)
    second = scale(rewards, torch.zeros(3, 2))
    # env 0: 1, 1.5 (episode ends), 1, then 1.5, 1.75, 1.875; env 1: 2, 3, 3.5, 3.75, ...
    seen = [1, 1.5, 1, 1.5, 1.75, 1.875, 2, 3, 3.5, 3.75, 3.875, 3.9375]
    assert scale.var == pytest.approx(np.var(seen), rel=1e-3)
    torch.testing.assert_close(second, rewards / math.sqrt(scale.var + 1e-8))
    assert not torch.equal(first, second)
