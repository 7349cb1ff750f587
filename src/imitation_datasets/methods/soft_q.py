"""Soft Q-learning and soft actor-critic: the RL component SQIL and IQ-Learn share.

What lives here (each method file writes its own loop over these pieces):

* :class:`SoftQConfig` — the settings of the learner (discount, temperature, target networks,
  replay, step budget);
* :class:`SoftQMethod` — the networks and acting rule. Discrete actions: ``"policy"`` is the
  Q-network ``Q(s, .)`` (an :class:`~.networks.ActionModel` whose logits are the Q-values), the
  policy is ``softmax(Q / alpha)`` and ``predict`` plays ``argmax Q``. Continuous actions (SAC):
  ``"policy"`` is a tanh-squashed Gaussian actor, ``"critic"`` twin Q-networks
  ``Q_1, Q_2(s, a)`` over ``[s, a]`` (actions scaled to ``[-1, 1]``); ``predict`` plays
  ``tanh(mean)``;
* :class:`SoftQLearner` — target networks (Polyak averaging), the soft value
  ``V(s) = alpha log sum_a exp(Q(s, a) / alpha)`` (discrete) or
  ``E_{a~pi}[min_i Q_i(s, a) - alpha log pi(a|s)]`` (continuous, one sample), the soft Bellman
  update, the SAC actor and temperature updates, and the behaviour policy for env play;
* :class:`SoftQRun` — what a method's loop holds (the learner, the agent's replay buffer, the
  environment, the step reached), saved and restored for a resumed run (:mod:`.resume`);
* the replay buffer and the step-by-step environment loop of the off-policy methods are in
  :mod:`.replay`.

``done`` is Gymnasium's ``terminated`` only: a time-limit truncation bootstraps. Every random
draw (minibatches, exploration, the actor's samples) comes from the method's ``torch.Generator``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods import exact
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.configuration import MethodConfig, require_at_least
from imitation_datasets.methods.networks import (
    LOG_STD_MAX,
    LOG_STD_MIN,
    ActionModel,
    StateMoments,
    mlp,
)
from imitation_datasets.methods.replay import EnvLoop, ReplayBuffer, expert_dones
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    expect,
    expect_tensor,
    load_module_state,
)

LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class SoftQConfig(MethodConfig):
    """Settings of the soft Q / SAC learner (``lr`` is the actor's learning rate).

    Attributes:
        gamma: discount.
        alpha: entropy temperature (discrete: the softmax temperature of ``V`` and of the
            behaviour policy; continuous: SAC's initial temperature).
        learn_alpha: continuous only: tune alpha towards entropy ``-|A|`` (SAC v2).
        critic_lr: Adam learning rate of the Q-networks.
        tau: Polyak rate of the target networks (1: copy every ``target_every`` updates).
        target_every: gradient steps between target updates.
        buffer_size: capacity of the agent's replay buffer (transitions).
        steps: environment steps (online methods) or gradient steps (offline) in all.
        steps_per_epoch: steps between two ``end_epoch`` calls (validation schedule).
        learning_starts: environment steps of uniformly random actions before learning.
        train_every: environment steps between gradient steps (online).
        obs_normaliser: the statistics the networks normalise states with: ``expert`` (fitted
            once to the expert's states) or, online only, ``running`` (refitted at every epoch
            end to every state the agent has visited, :class:`~.networks.StateMoments`, as
            Stable-Baselines3's ``VecNormalize`` normalises).
    """

    lr: float = 0.0003
    eval_every: int = 1
    gamma: float = 0.99
    alpha: float = 0.01
    learn_alpha: bool = False
    critic_lr: float = 0.0003
    tau: float = 0.005
    target_every: int = 1
    buffer_size: int = 100_000
    steps: int = 50_000
    steps_per_epoch: int = 2_500
    learning_starts: int = 1_000
    train_every: int = 1
    obs_normaliser: Literal["expert", "running"] = "expert"

    budget_fields: ClassVar[tuple[str, ...]] = ("steps",)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(self, dict.fromkeys(
            ("steps", "steps_per_epoch", "buffer_size", "target_every", "train_every"), 1))
        if not 0 < self.tau <= 1 or not 0 <= self.gamma < 1 or self.alpha <= 0:
            raise ConfigError(f"{type(self).__name__}: needs 0 < tau <= 1, 0 <= gamma < 1 and "
                              f"alpha > 0 (got {self.tau}, {self.gamma}, {self.alpha})")


class TwinQ(nn.Module):
    """Two independent MLPs ``Q_1, Q_2`` over the same input; output ``(N, 2)``."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.q1 = mlp(in_dim, 1, hidden, activation)
        self.q2 = mlp(in_dim, 1, hidden, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[Q_1(x), Q_2(x)]``."""
        return torch.cat([self.q1(x), self.q2(x)], dim=-1)


def soft_value(q: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """``V(s) = alpha log sum_a exp(Q(s, a) / alpha)`` of rows of Q-values."""
    return alpha * torch.logsumexp(q / alpha, dim=-1)


def squashed_sample(actor: ActionModel, obs: torch.Tensor,
                    generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``a = tanh(mean + std * eps)`` in ``[-1, 1]`` and ``log pi(a|s)`` (tanh-corrected)."""
    mean, log_std = actor(obs).split(actor.action_dim, dim=-1)
    log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
    action = torch.tanh(mean + torch.exp(log_std) * eps)
    log_prob = (-0.5 * eps ** 2 - log_std - 0.5 * LOG_2PI).sum(-1) \
        - torch.log1p(-action ** 2 + 1e-6).sum(-1)
    return action, log_prob


def boltzmann(q: torch.Tensor, alpha: float, generator: torch.Generator) -> torch.Tensor:
    """One action index per row drawn from ``softmax(Q / alpha)`` (one uniform draw per row)."""
    cdf = torch.softmax(q.double() / alpha, -1).cumsum(-1)
    u = torch.rand((q.shape[0], 1), generator=generator, dtype=torch.float64)
    return (cdf < u).sum(-1).clamp_max(q.shape[-1] - 1)


C = TypeVar("C", bound=SoftQConfig)


class SoftQMethod(Method[C]):
    """Networks and acting of the soft-Q family (see the module docstring)."""

    name: ClassVar[str] = "soft_q"
    resumable: ClassVar[bool] = True
    _run: SoftQRun | None = None

    def build_networks(self) -> dict[str, ActionModel]:
        """Discrete: ``Q(s, .)``; continuous: a Gaussian actor and twin critics ``Q(s, a)``."""
        if self.discrete:
            return {"policy": self.make_model(self.obs_dim)}
        actor = ActionModel(self.obs_dim, self.action_space,
                            lambda i, o: mlp(i, o, self.config.hidden, self.config.activation),
                            "gaussian")
        act_dim = actor.action_dim
        critic = ActionModel(self.obs_dim + act_dim, self.action_space,
                             lambda i, o: TwinQ(i, self.config.hidden, self.config.activation))
        return {"policy": actor, "critic": critic}

    def _act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs.reshape(-1, self.obs_dim))).float()
        with torch.inference_mode():
            if self.discrete:
                q = self.policy(x)
                index = q.argmax(-1) if deterministic else \
                    boltzmann(q, self.config.alpha, self.generator)
                return self.policy.decode(index).numpy().astype(np.int64)
            if deterministic:
                mean, _ = self.policy(x).split(self.policy.action_dim, dim=-1)
                scaled = torch.tanh(mean)
            else:
                scaled, _ = squashed_sample(self.policy, x, self.generator)
            actions = self.policy.decode(scaled).numpy().astype(np.float32)
        assert isinstance(self.action_space, gym.spaces.Box)
        return np.clip(actions, self.action_space.low, self.action_space.high)

    def learner(self) -> SoftQLearner:
        """The learner over this method's networks (call inside ``train``: normalisers fitted)."""
        learner = SoftQLearner(self.networks, self.config, self.generator, self.make_optimizer)
        learner.follow_policy_normaliser()
        return learner

    def start_run(self, online: bool) -> SoftQRun:
        """The loop's state, new or (when ``fit`` resumes a run) the saved one.

        A learner and, online, ``D_samp`` and the environment.
        """
        if not online and self.config.obs_normaliser == "running":
            raise ConfigError(f"{self.name}: obs_normaliser 'running' needs the agent's own "
                              "states; an offline method has none (use 'expert')")
        learner = self.learner()
        samp = env = None
        if online:
            samp = ReplayBuffer(self.config.buffer_size, self.obs_dim, self.policy.action_dim,
                                self.discrete)
            env = EnvLoop(self.interaction, self.policy)
        moments = StateMoments(self.obs_dim) if self.config.obs_normaliser == "running" else None
        self._run = SoftQRun(learner, self.config.steps, samp, env, moments)
        if self.restored_run is not None:
            self._run.restore(self.restored_run, self.state_source)
        return self._run

    def run_state(self) -> dict[str, Any]:
        """The loop's state (:meth:`SoftQRun.state`)."""
        if self._run is None:
            raise RuntimeError(f"{self.name}: no run in progress")
        return self._run.state()

    def expert_buffer(self, reward: float = 0.0) -> ReplayBuffer:
        """The expert's transitions as a buffer (reward ``reward``, actions as the learner's)."""
        actions = self.policy.encode(self.expert_actions)
        rewards = torch.full((len(actions),), float(reward))
        return ReplayBuffer.of(self.expert_obs, actions, rewards, self.expert_next_obs,
                               expert_dones(self.task.expert))

    def agent_step(self, env: EnvLoop, learner: SoftQLearner, buffer: ReplayBuffer, step: int,
                   reward: float = 0.0) -> None:
        """Environment step ``step`` (from 1) of the behaviour policy into ``buffer``.

        Uniformly random actions during the first ``learning_starts`` steps; the transition is
        stored with reward ``reward`` (the environment's reward is never used).
        """
        act = learner.behaviour if step > self.config.learning_starts else \
            (lambda s: learner.random_actions(len(s)))
        s, a, s_next, done = env.step(act)
        buffer.add(s, a, torch.tensor([reward]), s_next, done)
        if self._run is not None and self._run.moments is not None:
            self._run.moments.update(s.reshape(1, -1))

    def end_epoch(self, train_loss: float, idm_loss: float | None = None,
                  idm_accuracy: float | None = None, **info: float) -> bool:
        """End an epoch as every method does, after refitting the normalisers when running.

        With ``obs_normaliser: running`` validation sees the refitted networks.
        """
        run = self._run
        if run is not None and run.moments is not None and run.moments.count:
            run.learner.refit_normalisers(run.moments)
        return super().end_epoch(train_loss, idm_loss, idm_accuracy, **info)

    def epoch_due(self, step: int) -> bool:
        """Whether ``end_epoch`` is due after step ``step`` (from 1) of ``steps``."""
        return step % self.config.steps_per_epoch == 0 or step == self.config.steps


class SoftQLearner:
    """Target networks and the updates of soft Q-learning / SAC (see the module docstring)."""

    def __init__(self, networks: dict[str, ActionModel], config: SoftQConfig,
                 generator: torch.Generator, make_optimizer: Any) -> None:
        self.config = config
        self.generator = generator
        self.discrete = "critic" not in networks
        self.actor = networks["policy"]
        self.q_net = networks["policy"] if self.discrete else networks["critic"]
        self.target = copy.deepcopy(self.q_net).requires_grad_(False)
        self.q_optimizer: torch.optim.Optimizer = make_optimizer(self.q_net, config.critic_lr)
        self.actor_optimizer: torch.optim.Optimizer | None = None
        self.log_alpha = torch.tensor(math.log(config.alpha), requires_grad=config.learn_alpha)
        self.alpha_optimizer: torch.optim.Optimizer | None = None
        if not self.discrete:
            self.actor_optimizer = make_optimizer(self.actor, config.lr)
            if config.learn_alpha:
                self.alpha_optimizer = exact.Adam([self.log_alpha], lr=config.lr)
        self.target_entropy = -float(self.actor.action_dim)
        self.updates = 0

    def follow_policy_normaliser(self) -> None:
        """The Q-networks normalise states with the policy's statistics.

        Continuous actions: the critics' ``[s, a]`` normalisers take the policy's state
        statistics (actions, already in ``[-1, 1]``, pass unchanged); the target follows.
        """
        if not self.discrete:
            stats, act_dim = self.actor.normaliser, self.actor.action_dim
            self.q_net.normaliser.set_moments(torch.cat([stats.mean, torch.zeros(act_dim)]),
                                              torch.cat([stats.std, torch.ones(act_dim)]))
        self.target.normaliser.load_state_dict(self.q_net.normaliser.state_dict())

    def refit_normalisers(self, moments: StateMoments) -> None:
        """Every network normalises states with ``moments`` (``obs_normaliser: running``)."""
        self.actor.normaliser.set_moments(moments.mean, moments.std())
        self.follow_policy_normaliser()

    @property
    def alpha(self) -> float:
        """The current temperature."""
        return float(self.log_alpha.detach().exp())

    # ------------------------------------------------------------------ values
    def q(self, obs: torch.Tensor, actions: torch.Tensor,
          net: nn.Module | None = None) -> torch.Tensor:
        """``Q(s, a)``: ``(N,)`` for discrete actions, ``(N, 2)`` (twin) for continuous."""
        net = self.q_net if net is None else net
        if self.discrete:
            return net(obs).gather(1, actions.long().view(-1, 1)).squeeze(1)
        return net(torch.cat([obs, actions], dim=-1))

    def value(self, obs: torch.Tensor, target: bool = False) -> torch.Tensor:
        """The soft value ``V(s)`` under the online (or target) Q-network, ``(N,)``."""
        net = self.target if target else self.q_net
        if self.discrete:
            return soft_value(net(obs), self.alpha)
        with torch.no_grad():  # the actor learns in actor_step only
            actions, log_prob = squashed_sample(self.actor, obs, self.generator)
        return self.q(obs, actions, net).min(-1).values - self.alpha * log_prob

    # ------------------------------------------------------------------ updates
    def bellman_loss(self, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Soft Bellman error ``(Q(s, a) - r - gamma (1 - done) V_target(s'))^2`` (twins summed)."""
        obs, actions, rewards, next_obs, dones = batch
        with torch.no_grad():
            y = rewards + self.config.gamma * (1 - dones) * self.value(next_obs, target=True)
        q = self.q(obs, actions)
        if not self.discrete:
            y = y.unsqueeze(-1)
        return ((q - y) ** 2).mean(0).sum()

    def critic_step(self, loss: torch.Tensor) -> None:
        """One Adam step of the Q-network(s) on ``loss``; target update on schedule."""
        self.q_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.q_optimizer.step()
        self.updates += 1
        if self.updates % self.config.target_every == 0:
            self.update_target()

    def actor_step(self, obs: torch.Tensor) -> float:
        """SAC's actor (and temperature) step on ``obs``: ``E[alpha log pi - min Q]``.

        Discrete actions have no actor (the policy is ``softmax(Q / alpha)``): returns 0.
        """
        if self.discrete or self.actor_optimizer is None:
            return 0.0
        actions, log_prob = squashed_sample(self.actor, obs, self.generator)
        self.q_net.requires_grad_(False)
        q = self.q(obs, actions).min(-1).values
        self.q_net.requires_grad_(True)
        loss = (self.alpha * log_prob - q).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.actor_optimizer.step()
        if self.alpha_optimizer is not None:
            alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
            self.alpha_optimizer.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_optimizer.step()
        return float(loss.detach())

    @torch.no_grad()
    def update_target(self) -> None:
        """``target <- (1 - tau) target + tau online`` (parameters only; buffers copied)."""
        tau = self.config.tau
        for t, p in zip(self.target.parameters(), self.q_net.parameters(), strict=True):
            t.mul_(1 - tau).add_(p, alpha=tau)

    # ------------------------------------------------------------------ acting
    @torch.no_grad()
    def behaviour(self, obs: torch.Tensor) -> torch.Tensor:
        """The training-time action of each row: ``softmax(Q/alpha)`` or a squashed sample."""
        if self.discrete:
            return boltzmann(self.q_net(obs), self.alpha, self.generator)
        return squashed_sample(self.actor, obs, self.generator)[0]

    def state(self) -> dict[str, Any]:
        """Target network, optimisers, temperature and update count (for a resumed run)."""
        optimizers = {"q": self.q_optimizer, "actor": self.actor_optimizer,
                      "alpha": self.alpha_optimizer}
        return {"target": self.target.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in optimizers.items() if o is not None},
                "log_alpha": self.log_alpha.detach(), "updates": self.updates}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state` (every part must fit this learner)."""
        load_module_state(self.target, state.get("target"), "target", where)
        saved = expect(state, "optimizers", dict, where)
        optimizers = {"q": self.q_optimizer, "actor": self.actor_optimizer,
                      "alpha": self.alpha_optimizer}
        if set(saved) != {k for k, o in optimizers.items() if o is not None}:
            raise TrainingStateError(f"{where}: the saved optimisers are not this learner's")
        for key, optimizer in optimizers.items():
            if optimizer is not None:
                load_module_state(optimizer, saved[key], f"{key} optimiser", where)
        with torch.no_grad():
            self.log_alpha.copy_(expect_tensor(state, "log_alpha", self.log_alpha.detach(),
                                               where))
        self.updates = expect(state, "updates", int, where)

    def random_actions(self, n: int) -> torch.Tensor:
        """``n`` uniformly random actions (learner units), from the generator."""
        if self.discrete:
            return torch.randint(0, self.q_net.n_actions, (n,), generator=self.generator)
        return torch.rand((n, self.actor.action_dim), generator=self.generator) * 2 - 1


class SoftQRun:
    """What the loop of a soft-Q method holds between two steps (see the module docstring).

    Args:
        learner: the learner.
        total: the step budget (``steps``).
        samp: the agent's replay buffer (online methods).
        env: the environment (online methods).
        moments: the agent's state moments (``obs_normaliser: running``).
    """

    def __init__(self, learner: SoftQLearner, total: int, samp: ReplayBuffer | None = None,
                 env: EnvLoop | None = None, moments: StateMoments | None = None) -> None:
        self.learner = learner
        self.total = total
        self.samp = samp
        self.env = env
        self.moments = moments
        self.step = 0
        self.info: dict[str, float] = {}
        """The latest update's extra figures, reported at the next epoch end."""

    def steps(self) -> Iterator[int]:
        """The steps still to run, from 1 (or the one after a restored state) to ``total``."""
        for step in range(self.step + 1, self.total + 1):
            self.step = step
            yield step

    def state(self) -> dict[str, Any]:
        """The learner, the replay buffer, the environment and the step reached."""
        return {"step": self.step, "info": dict(self.info), "learner": self.learner.state(),
                "samp": None if self.samp is None else self.samp.state(),
                "env": None if self.env is None else self.env.state(),
                **({} if self.moments is None else {"moments": self.moments.state()})}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state` into this run's learner, buffer and environment."""
        step = expect(state, "step", int, where)
        if not 0 <= step <= self.total:
            raise TrainingStateError(f"{where}: step {step} is outside the budget {self.total}")
        info = expect(state, "info", dict, where)
        self.info = {str(k): float(v) for k, v in info.items()}
        self.learner.restore(expect(state, "learner", dict, where), where)
        for part, name in ((self.samp, "samp"), (self.env, "env"), (self.moments, "moments")):
            if part is not None:
                part.restore(expect(state, name, dict, where), where)
        self.step = step
