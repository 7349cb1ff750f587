"""Proximal Policy Optimization (Schulman et al. 2017): the on-policy learner of GAIL, GAIfO, AIRL.

Not a method on its own: :class:`PPO` is a component an adversarial method drives, one
iteration at a time (Algorithm 1 of the paper, "PPO, Actor-Critic Style")::

    for iteration = 1, 2, ...
        run pi_old in N environments for T steps (collect)
        compute advantage estimates A_1..A_NT with GAE(gamma, lambda) (update)
        optimise L^CLIP - c1 L^VF + c2 S wrt theta, K epochs, minibatch M (update)
        pi_old <- pi

The rewards are not the environment's: the caller passes them to :meth:`PPO.update` (the
discriminator's). Design, as Stable-Baselines3's PPO defaults (the reference we follow):
separate policy and value MLPs (one Adam, ``eps=1e-5``), advantages normalised per minibatch,
no value clipping, gradients clipped to ``max_grad_norm``; a truncated episode bootstraps
``V(s')`` from its final observation, a terminated one does not.

Distributions: discrete actions are categorical over the policy's logits, drawn with
:meth:`~.networks.ActionModel.sample` (one uniform number per row); continuous actions are a
diagonal Gaussian in the action space scaled to ``[-1, 1]`` with a state-independent
log standard deviation (:class:`GaussianBody`); the environment gets the sample clipped to the
bounds, the log-probability is the unclipped sample's (as Stable-Baselines3 does). Evaluation
plays the mean (``Method.predict``).

Why our own PPO rather than Stable-Baselines3's (measured here, CartPole, 8 x 256 steps,
10 epochs, minibatch 64, one thread: both about 4.2k environment steps per CPU second, the
update dominating): SB3 draws from the global torch and NumPy RNGs, seeds its own VecEnvs and
would need a wrapper to take the discriminator's rewards; here every draw comes from the
method's ``torch.Generator`` and the ``k``-th training episode is reset with
``episode_seed(interaction_seed, k)`` (numbered and step-counted by
:class:`~.interaction.Interaction`), so a rerun gives identical numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitation_datasets.core.rollout import fast_step, make_env, resets_completely
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.methods import exact
from imitation_datasets.methods._data import minibatches
from imitation_datasets.methods.configuration import MethodConfig, require_at_least
from imitation_datasets.methods.episode_tape import EpisodeTape, replay_episode
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.networks import (
    LOG_STD_MAX,
    LOG_STD_MIN,
    ActionModel,
    Normaliser,
    StateMoments,
    mlp,
)
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    expect,
    expect_tensor,
    load_module_state,
)

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class PPOConfig(MethodConfig):
    """PPO's settings (``lr`` and ``batch_size`` of :class:`MethodConfig` are PPO's).

    Attributes:
        total_steps: environment steps of the policy's rollouts (the training budget).
        n_envs: environments stepped together (N).
        n_steps: steps per environment and iteration (T); an iteration has ``N * T`` steps.
        ppo_epochs: epochs over each rollout (K).
        gamma: discount.
        gae_lambda: GAE's lambda.
        clip_range: epsilon of the clipped objective.
        ent_coef: entropy bonus (c2).
        vf_coef: value loss weight (c1).
        max_grad_norm: gradient norm clip.
        init_log_std: initial log standard deviation of a Gaussian policy.
        normalise_rewards: divide rewards by a running standard deviation of the discounted
            return (Stable-Baselines3's ``VecNormalize(norm_reward=True)`` without its clip;
            ikostrikov's GAIL does the same to the discriminator's rewards).
        obs_normaliser: the statistics of the state normalisation the policy, the critic and
            a discriminator share: ``expert`` (fitted once to the expert's states) or
            ``running`` (refitted after every iteration to every state the policy's rollouts
            have visited, :class:`StateMoments`; the first iteration uses the expert's), as
            Stable-Baselines3's ``VecNormalize`` and ikostrikov's GAIL normalise.
    """

    activation: Literal["relu", "tanh", "gelu"] = "tanh"
    continuous_loss: Literal["mse", "gaussian"] = "gaussian"
    lr: float = 0.0003
    batch_size: int = 64
    total_steps: int = 200_000
    n_envs: int = 8
    n_steps: int = 256
    ppo_epochs: int = 10
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    init_log_std: float = 0.0
    normalise_rewards: bool = False
    obs_normaliser: Literal["expert", "running"] = "expert"

    budget_fields: ClassVar[tuple[str, ...]] = ("total_steps",)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(self, dict.fromkeys(("total_steps", "n_envs", "n_steps", "ppo_epochs"), 1))

    @property
    def iterations(self) -> int:
        """PPO iterations that fit in ``total_steps``."""
        return max(1, math.ceil(self.total_steps / (self.n_envs * self.n_steps)))


class GaussianBody(nn.Module):
    """``x -> [mean(x), log_std]``: an MLP mean and a state-independent log standard deviation."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...], activation: str,
                 init_log_std: float) -> None:
        super().__init__()
        self.mean = mlp(in_dim, out_dim // 2, hidden, activation)
        self.log_std = nn.Parameter(torch.full((out_dim // 2,), float(init_log_std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Concatenated mean and log standard deviation (the layout ``ActionModel`` reads)."""
        mean = self.mean(x)
        return torch.cat([mean, self.log_std.expand_as(mean)], -1)


def policy_network(obs_dim: int, action_space: gym.Space, config: PPOConfig) -> ActionModel:
    """PPO's policy: categorical logits or :class:`GaussianBody`, last layer scaled by 0.01.

    The small last layer (SB3 initialises it with gain 0.01) starts the policy near uniform
    (discrete) or near a zero mean (continuous). Call under a seeded torch RNG.
    """
    def body(in_dim: int, out_dim: int) -> nn.Module:
        if isinstance(action_space, gym.spaces.Discrete):
            return mlp(in_dim, out_dim, config.hidden, config.activation)
        return GaussianBody(in_dim, out_dim, config.hidden, config.activation,
                            config.init_log_std)

    model = ActionModel(obs_dim, action_space, body, "gaussian")
    last = [m for m in model.body.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(0.01)
        last.bias.zero_()
    return model


def log_prob_entropy(policy: ActionModel, x: torch.Tensor,
                     targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``log pi(target | x)`` and the policy's entropy at each row.

    ``targets`` are class indices (discrete) or unclipped samples in scaled units (continuous).
    """
    out = policy(x)
    if policy.discrete:
        log_p = torch.log_softmax(out, -1)
        chosen = log_p.gather(-1, targets.long().reshape(-1, 1)).squeeze(-1)
        return chosen, -(log_p.exp() * log_p).sum(-1)
    mean, log_std = out.split(policy.action_dim, -1)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    z = (targets.reshape(mean.shape) - mean) * torch.exp(-log_std)
    log_p = (-0.5 * z ** 2 - log_std - HALF_LOG_2PI).sum(-1)
    return log_p, (log_std + 0.5 + HALF_LOG_2PI).sum(-1)


def sample_targets(policy: ActionModel, x: torch.Tensor,
                   generator: torch.Generator) -> torch.Tensor:
    """One target per row: a class, or an unclipped Gaussian sample in scaled units."""
    if policy.discrete:
        return policy.sample(x, generator)
    mean, log_std = policy(x).split(policy.action_dim, -1)
    noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
    return mean + torch.exp(log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)) * noise


def taken(policy: ActionModel, targets: torch.Tensor) -> torch.Tensor:
    """What the environment executes, in target units: the class, or the sample clipped."""
    if policy.discrete:
        return targets
    return torch.maximum(torch.minimum(targets, policy.action_high), policy.action_low)


def clipped_surrogate(log_p: torch.Tensor, old_log_p: torch.Tensor, advantages: torch.Tensor,
                      clip_range: float) -> torch.Tensor:
    """``-mean(min(r A, clip(r, 1 - eps, 1 + eps) A))`` with ``r = exp(log_p - old_log_p)``."""
    ratio = torch.exp(log_p - old_log_p)
    clipped = ratio.clamp(1.0 - clip_range, 1.0 + clip_range)
    return -torch.minimum(ratio * advantages, clipped * advantages).mean()


def gae(rewards: torch.Tensor, values: torch.Tensor, next_values: torch.Tensor,
        terminated: torch.Tensor, dones: torch.Tensor, gamma: float,
        lam: float) -> torch.Tensor:
    """Generalised advantage estimates of ``[T, N]`` tensors (Schulman et al. 2016).

    ``delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)`` and
    ``A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}``; ``V(s'_t)`` is the value of the
    step's own next observation, so a truncated episode (done, not terminated) bootstraps and
    the rollout's last step needs no special case.
    """
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[0])
    for t in range(len(rewards) - 1, -1, -1):
        delta = rewards[t] + gamma * (1 - terminated[t]) * next_values[t] - values[t]
        last = delta + gamma * lam * (1 - dones[t]) * last
        advantages[t] = last
    return advantages


class ReturnScale:
    """Rewards divided by the running standard deviation of each env's discounted return.

    The return ``R <- gamma R + r`` restarts after every episode end; its variance is pooled
    over all steps so far (Chan et al.'s parallel update, float64), as Stable-Baselines3's
    ``VecNormalize`` does for rewards (no clipping here).
    """

    def __init__(self, n_envs: int, gamma: float) -> None:
        self.gamma = gamma
        self.returns = torch.zeros(n_envs, dtype=torch.float64)
        self.count, self.mean, self.var = 1e-4, 0.0, 1.0

    def __call__(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """``rewards / sqrt(var + 1e-8)`` for ``[T, N]`` rewards, after updating ``var``."""
        seen = []
        for t in range(len(rewards)):
            self.returns = self.gamma * self.returns + rewards[t].double()
            seen.append(self.returns.clone())
            self.returns = self.returns * (1 - dones[t].double())
        batch = torch.stack(seen)
        n, mean, var = batch.numel(), float(batch.mean()), float(batch.var(correction=0))
        total = self.count + n
        delta = mean - self.mean
        m2 = self.var * self.count + var * n + delta ** 2 * self.count * n / total
        self.mean, self.var, self.count = self.mean + delta * n / total, m2 / total, total
        return (rewards.double() / math.sqrt(self.var + 1e-8)).to(rewards.dtype)

    def state(self) -> dict[str, Any]:
        """The running returns and moments (for a resumed run)."""
        return {"returns": self.returns, "count": self.count, "mean": self.mean, "var": self.var}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state`."""
        self.returns = expect_tensor(state, "returns", self.returns, where).clone()
        self.count, self.mean, self.var = (float(expect(state, k, float, where))
                                           for k in ("count", "mean", "var"))


class Critic(nn.Module):
    """``V(s)``: the policy's input normalisation and an MLP."""

    def __init__(self, obs_dim: int, hidden: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.normaliser = Normaliser(obs_dim)
        self.body = mlp(obs_dim, 1, hidden, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Values, one per row."""
        return self.body(self.normaliser(x)).squeeze(-1)


@dataclass
class Rollout:
    """``N * T`` steps of the policy, ``[T, N, ...]`` tensors (``flat`` gives ``[T * N, ...]``).

    ``targets`` are what :func:`log_prob_entropy` reads (unclipped samples), ``actions`` what
    the environment executed (target units), ``next_obs`` the true ``s'`` (the final
    observation when an episode ended there).
    """

    obs: torch.Tensor
    targets: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    dones: torch.Tensor
    episode_returns: list[float]

    @staticmethod
    def flat(x: torch.Tensor) -> torch.Tensor:
        """``[T, N, ...] -> [T * N, ...]``."""
        return x.reshape(-1, *x.shape[2:])


class PPO:
    """The PPO learner over ``policy`` (see the module docstring).

    Args:
        policy: the method's policy (:func:`policy_network`), its normaliser already fitted.
        config: PPO's settings.
        interaction: the fit's environment service (episode numbering and step count).
        generator: every action draw and minibatch order.
        init_seed: seeds the critic's initialisation.
    """

    def __init__(self, policy: ActionModel, config: PPOConfig, interaction: Interaction,
                 generator: torch.Generator, init_seed: int) -> None:
        self.policy, self.config, self.interaction = policy, config, interaction
        self.generator = generator
        obs_dim = policy.normaliser.mean.numel()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            self.critic = Critic(obs_dim, config.hidden, config.activation)
        self.critic.normaliser.load_state_dict(policy.normaliser.state_dict())
        params = list(policy.parameters()) + list(self.critic.parameters())
        self.optimizer = exact.Adam(params, lr=config.lr, eps=1e-5)
        self.envs: list[gym.Env] = []
        self.steps: list[Any] = []
        self.limits: list[int | None] = []
        self.lengths = np.zeros(config.n_envs, np.int64)
        self.returns = np.zeros(config.n_envs)
        self.obs = np.zeros((config.n_envs, obs_dim), np.float32)
        self.tapes = [EpisodeTape() for _ in range(config.n_envs)]
        self.return_scale = ReturnScale(config.n_envs, config.gamma)
        self.state_moments = StateMoments(obs_dim)

    # ------------------------------------------------------------------ environments
    def _reset(self, i: int) -> None:
        """Start env ``i``'s next episode with the next training episode seed."""
        itx = self.interaction
        if i == len(self.envs) or not resets_completely(self.envs[i]):
            self._open_env(i)  # an episode never depends on the last one
        seed = episode_seed(itx.interaction_seed, itx.episodes_played, 0)
        self.tapes[i].start(itx.episodes_played)
        itx.episodes_played += 1
        obs, _ = self.envs[i].reset(seed=seed)
        self.obs[i] = np.asarray(obs, np.float32).reshape(-1)
        self.lengths[i], self.returns[i] = 0, 0.0

    def _open_env(self, i: int) -> gym.Env:
        """A fresh environment in slot ``i`` (a new slot when ``i == len(self.envs)``)."""
        env = make_env(self.interaction.env_id, self.interaction.env_kwargs)
        if i == len(self.envs):
            self.envs.append(env)
            self.steps.append(None)
            self.limits.append(None)
        else:
            self.envs[i].close()
            self.envs[i] = env
        self.steps[i], self.limits[i] = fast_step(env)
        return env

    def close(self) -> None:
        """Close the environments."""
        for env in self.envs:
            env.close()
        self.envs = []

    # ------------------------------------------------------------------ resuming a run
    def state(self) -> dict[str, Any]:
        """Critic, optimiser, reward scale and each environment's episode in progress."""
        envs = [{**self.tapes[i].state(self.obs[i]), "length": int(self.lengths[i]),
                 "return": float(self.returns[i])} for i in range(len(self.envs))]
        return {"critic": self.critic.state_dict(), "optimizer": self.optimizer.state_dict(),
                "return_scale": self.return_scale.state(), "envs": envs,
                **({"state_moments": self.state_moments.state()}
                   if self.config.obs_normaliser == "running" else {})}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state`; each environment re-plays its episode (:mod:`.episode_tape`)."""
        load_module_state(self.critic, state.get("critic"), "critic", where)
        load_module_state(self.optimizer, state.get("optimizer"), "PPO optimiser", where)
        self.return_scale.restore(expect(state, "return_scale", dict, where), where)
        if self.config.obs_normaliser == "running":
            self.state_moments.restore(expect(state, "state_moments", dict, where), where)
        envs = expect(state, "envs", list, where)
        if len(envs) not in (0, self.config.n_envs):
            raise TrainingStateError(f"{where}: {len(envs)} environments saved, the run has "
                                     f"{self.config.n_envs}")
        self.close()
        itx = self.interaction
        for i, saved in enumerate(envs):
            if not isinstance(saved, dict):
                raise TrainingStateError(f"{where}: environment {i}'s episode is malformed")
            env = self._open_env(i)
            length = expect(saved, "length", int, where)
            limit = self.limits[i]
            actions = saved.get("actions")
            if length != (0 if actions is None else len(actions)) or \
                    (limit is not None and length >= limit):
                raise TrainingStateError(f"{where}: environment {i}'s episode length {length} "
                                         f"does not fit its actions or time limit")
            obs, total = replay_episode(saved, env, self.steps[i], itx.interaction_seed,
                                        self.policy.discrete, self.tapes[i], where)
            self.obs[i], self.lengths[i], self.returns[i] = obs, length, total
            if total != expect(saved, "return", float, where):
                raise TrainingStateError(f"{where}: re-playing environment {i}'s episode gave "
                                         f"another return")

    # ------------------------------------------------------------------ the two phases
    @torch.no_grad()
    def collect(self) -> Rollout:
        """Run the policy (sampling) for ``n_steps`` in each of ``n_envs`` environments."""
        cfg, policy = self.config, self.policy
        while len(self.envs) < cfg.n_envs:
            self._reset(len(self.envs))
        columns: dict[str, list[torch.Tensor]] = {k: [] for k in (
            "obs", "targets", "actions", "log_probs", "values", "next_obs", "terminated",
            "dones")}
        finished: list[float] = []
        for _ in range(cfg.n_steps):
            x = torch.from_numpy(self.obs.copy())
            targets = sample_targets(policy, x, self.generator)
            log_p, _ = log_prob_entropy(policy, x, targets)
            executed = taken(policy, targets)
            env_actions = policy.decode(executed).numpy()
            next_obs = np.empty_like(self.obs)
            terminated = np.zeros(cfg.n_envs, np.float32)
            dones = np.zeros(cfg.n_envs, np.float32)
            for i in range(cfg.n_envs):
                action = int(env_actions[i]) if policy.discrete else env_actions[i]
                obs, reward, term, trunc, _ = self.steps[i](action)
                self.tapes[i].record(action)
                self.lengths[i] += 1
                self.returns[i] += float(reward)
                limit = self.limits[i]
                trunc = trunc or (limit is not None and self.lengths[i] >= limit)
                next_obs[i] = np.asarray(obs, np.float32).reshape(-1)
                terminated[i], dones[i] = float(term), float(term or trunc)
                if term or trunc:
                    finished.append(float(self.returns[i]))
                    self._reset(i)
                else:
                    self.obs[i] = next_obs[i]
            for key, value in (("obs", x), ("targets", targets), ("actions", executed),
                               ("log_probs", log_p), ("values", self.critic(x)),
                               ("next_obs", torch.from_numpy(next_obs)),
                               ("terminated", torch.from_numpy(terminated)),
                               ("dones", torch.from_numpy(dones))):
                columns[key].append(value)
        self.interaction.count(cfg.n_steps * cfg.n_envs)
        stacked = {k: torch.stack(v) for k, v in columns.items()}
        return Rollout(**stacked, episode_returns=finished)

    def update(self, rollout: Rollout, rewards: torch.Tensor) -> dict[str, float]:
        """K epochs of the clipped objective on ``rollout`` with ``rewards`` (``[T, N]``).

        Returns the mean policy loss, value loss and entropy of the last epoch. With
        ``obs_normaliser: running`` the normalisers are refitted afterwards
        (:meth:`refit_normalisers`).
        """
        cfg, flat = self.config, Rollout.flat
        if cfg.normalise_rewards:
            rewards = self.return_scale(rewards, rollout.dones)
        with torch.no_grad():
            next_values = self.critic(flat(rollout.next_obs)).reshape(rewards.shape)
        advantages = gae(rewards, rollout.values, next_values, rollout.terminated,
                         rollout.dones, cfg.gamma, cfg.gae_lambda)
        returns = advantages + rollout.values
        data = (flat(rollout.obs), flat(rollout.targets), flat(rollout.log_probs),
                flat(advantages), flat(returns))
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        stats: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "entropy": []}
        for _ in range(cfg.ppo_epochs):
            stats = {k: [] for k in stats}
            for obs, targets, old_log_p, adv, ret in minibatches(data, cfg.batch_size,
                                                                  self.generator):
                log_p, entropy = log_prob_entropy(self.policy, obs, targets)
                if len(adv) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = clipped_surrogate(log_p, old_log_p, adv, cfg.clip_range)
                value_loss = 0.5 * ((self.critic(obs) - ret) ** 2).mean()
                loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy.mean()
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                self.optimizer.step()
                for key, value in (("policy_loss", policy_loss), ("value_loss", value_loss),
                                   ("entropy", entropy.mean())):
                    stats[key].append(float(value.detach()))
        if cfg.obs_normaliser == "running":
            self.refit_normalisers(flat(rollout.obs))
        return {k: float(np.mean(v)) for k, v in stats.items()}

    def refit_normalisers(self, states: torch.Tensor) -> None:
        """``obs_normaliser: running``: pool ``states``; refit the policy and critic normalisers.

        The next iteration's collect sees the new statistics.
        """
        self.state_moments.update(states)
        self.policy.normaliser.set_moments(self.state_moments.mean, self.state_moments.std())
        self.critic.normaliser.load_state_dict(self.policy.normaliser.state_dict())
