"""Inverse soft-Q learning, IQ-Learn (Garg et al., NeurIPS 2021), offline and online.

IQ-Learn learns one soft Q-function ``Q`` and reads the reward off it,
``r(s, a) = Q(s, a) - gamma E_{s'} V(s')``; the policy is the soft-optimal one for ``Q``
(discrete: ``softmax(Q / alpha)``, ``V(s) = alpha log sum_a exp(Q(s, a) / alpha)``; continuous:
a SAC actor, ``V(s) = E_{a~pi}[Q(s, a) - alpha log pi(a|s)]``). Algorithm 1 of the paper, as run
by :meth:`IQLearnOffline.train` and :meth:`IQLearnOnline.train` (comments give line numbers)::

    1. initialise Q_theta and, for continuous actions, a policy pi_phi
    2. for step t = 1..N:
    3.   theta <- theta - lr_Q grad_theta [-J(theta)]   (Equation 10, chi^2 divergence)
    4.   continuous only: phi <- phi + lr_pi grad_phi E_{s~D, a~pi}[Q(s, a) - alpha log pi(a|s)]

with the loss (``y = gamma (1 - done) V(s')``, the chi^2 divergence ``phi(x) = x - x^2 / (4 c)``)::

    -J = -E_expert[Q(s, a) - y]  +  1/(4 c) E[(Q(s, a) - y)^2]  +  E_rho[V(s) - y]

Choices, following the authors' code (``iq_learn/iq.py`` of github.com/Div99/IQ-Learn):

* the value-difference form of the second term, ``E_rho[V(s) - gamma V(s')]``, not
  ``(1 - gamma) E_{rho_0}[V(s_0)]`` over initial states: the official ``value_expert`` loss
  offline (``rho`` = the expert's transitions) and ``value`` online (``rho`` = the balanced
  mix of expert and agent transitions). ``value_states: expert`` online is the official
  ``value_expert``; with discrete actions the agent's transitions then enter no term of the
  loss (offline IQ-Learn's objective with online IQ-Learn's budget and batches). No shipped
  section uses it: on LunarLander it was measured better only on test seeds (the yaml says
  why that was not adopted);
* chi^2 regulariser with ``c = divergence_alpha = 0.5`` over the expert's transitions (the
  official ``method.chi``; offline that is every row). Online, ``chi2_states: all`` gives the
  official ``method.regularize`` (expert and agent rows, the authors' MuJoCo setting); on
  CartPole with 10 demonstrations it reached 0.4 performance in 20k steps against 1.0 for the
  expert-only term, so the expert-only term is the default. One function, :func:`iq_loss`,
  computes every combination;
* ``V(s')`` from the online Q-network with its gradient by default (the official
  ``train.use_target=False``); ``use_target`` switches to the Polyak-averaged target network;
* fixed temperature ``alpha`` (the official ``init_temp``; ``learn_alpha`` adds SAC's tuning);
* continuous actions: twin critics, each trained on the loss with the shared ``V`` (from
  ``min(Q_1, Q_2)``) and the two losses averaged, as the official double-Q critic.

Deviations:

* with ``chi2_states: all`` the regulariser uses the replayed agent action ``Q(s, a)`` on
  agent rows, not ``Q(s, a~pi)`` resampled from the current policy (the official code's
  ``policy_Q``; its alternative line, commented out there, is the one used here);
* online batches are half expert, half agent (``batch_size // 2`` each; the official code
  concatenates two batches of ``batch_size``); one environment step then one gradient step,
  after ``learning_starts`` uniformly random steps;
* offline, discrete and continuous: the original IL-Datasets 1.0.0 ships offline IQ-Learn
  for discrete actions only; continuous actions here use the same SAC-style actor as online,
  updated on the expert's states;
* fixed budgets (``steps``: environment steps online, gradient steps offline) and model
  selection on validation seeds every ``steps_per_epoch`` steps, instead of the last iterate;
* hyperparameters shared with SQIL (``config/*.yaml``): batch 256, Adam 3e-4, Polyak target
  ``tau = 0.005`` (unused with ``use_target: false``), temperature 0.01 for discrete actions;
  the official defaults are batch 32, critic learning rate 1e-4, a hard target copy every 4
  steps and temperature 0.01 (0.001 in its CartPole example). Continuous actions: online
  keeps the authors' MuJoCo settings (fixed temperature 0.01, actor learning rate 3e-5);
  offline learns the temperature from 0.1 (SAC v2), which reached 0.97 on Pendulum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch

from imitation_datasets.methods.records import TrainingTask
from imitation_datasets.methods.replay import balanced_batch
from imitation_datasets.methods.soft_q import (
    SoftQConfig,
    SoftQLearner,
    SoftQMethod,
)


@dataclass(frozen=True)
class IQLearnConfig(SoftQConfig):
    """IQ-Learn's settings: the soft-Q learner's plus the divergence and the target choice.

    Attributes:
        divergence_alpha: ``c`` of the chi^2 divergence ``phi(x) = x - x^2 / (4 c)``.
        use_target: ``V(s')`` from the target network (else the online one, with gradient).
        value_states: rows of ``E_rho[V(s) - y]``: the expert's (official ``value_expert``) or
            every row of the batch (official ``value``); the same offline.
        chi2_states: rows of the chi^2 term: the expert's (official ``method.chi``) or every
            row (official ``method.regularize``); the same offline.
    """

    divergence_alpha: float = 0.5
    use_target: bool = False
    value_states: Literal["expert", "all"] = "all"
    chi2_states: Literal["expert", "all"] = "expert"


def iq_loss(q: torch.Tensor, v: torch.Tensor, next_v: torch.Tensor, dones: torch.Tensor,
            is_expert: torch.Tensor, gamma: float, divergence_alpha: float,
            value_states: str = "all",
            chi2_states: str = "expert") -> tuple[torch.Tensor, dict[str, float]]:
    """The inverse soft-Q loss ``-J`` with the chi^2 regulariser (module docstring).

    Args:
        q: ``Q(s, a)`` of each row, ``(N,)``.
        v: ``V(s)``, ``(N,)``.
        next_v: ``V(s')``, ``(N,)``.
        dones: 1 where ``s'`` is terminal.
        is_expert: boolean mask of the expert's rows (the first term averages over them).
        gamma: discount.
        divergence_alpha: ``c`` of the chi^2 divergence.
        value_states: ``"expert"`` or ``"all"``: rows of the value term.
        chi2_states: ``"expert"`` or ``"all"``: rows of the chi^2 term.

    Returns:
        The loss and its three terms by name.
    """
    y = gamma * (1 - dones) * next_v
    reward = q - y
    expert_term = -reward[is_expert].mean()
    every = torch.ones_like(is_expert)
    chi2_rows = is_expert if chi2_states == "expert" else every
    value_rows = is_expert if value_states == "expert" else every
    chi2_term = (reward[chi2_rows] ** 2).mean() / (4 * divergence_alpha)
    value_term = (v - y)[value_rows].mean()
    loss = expert_term + chi2_term + value_term
    return loss, {"expert_term": float(expert_term.detach()),
                  "chi2_term": float(chi2_term.detach()),
                  "value_term": float(value_term.detach())}


class _IQLearn(SoftQMethod[IQLearnConfig]):
    """The update both variants share: step 3 (critic) and step 4 (actor) on one batch."""

    config_class: ClassVar[type[IQLearnConfig]] = IQLearnConfig

    def iq_update(self, learner: SoftQLearner, batch: tuple[torch.Tensor, ...],
                  is_expert: torch.Tensor) -> tuple[float, dict[str, float]]:
        """Steps 3 and 4 of Algorithm 1 on ``batch``; returns the loss and its terms."""
        cfg = self.config
        obs, actions, _, next_obs, dones = batch
        q = learner.q(obs, actions)
        v = learner.value(obs)
        next_v = learner.value(next_obs, target=cfg.use_target)
        if cfg.use_target:
            next_v = next_v.detach()
        heads = [q] if q.ndim == 1 else list(q.unbind(-1))  # twin critics: average the losses
        parts = [iq_loss(h, v, next_v, dones, is_expert, cfg.gamma, cfg.divergence_alpha,
                         cfg.value_states, cfg.chi2_states)
                 for h in heads]
        loss = sum((p[0] for p in parts), torch.zeros(())) / len(parts)
        learner.critic_step(loss)                                            # 3.
        learner.actor_step(obs)                                              # 4.
        return float(loss.detach()), parts[0][1]


class IQLearnOffline(_IQLearn):
    """IQ-Learn from the expert's transitions only (no environment interaction)."""

    name: ClassVar[str] = "iq_learn_offline"

    def train(self, task: TrainingTask) -> None:
        """Algorithm 1 on minibatches of the expert's transitions (``steps`` gradient steps)."""
        cfg = self.config
        run = self.start_run(online=False)                                   # 1.
        learner = run.learner
        demo = self.expert_buffer()
        is_expert = torch.ones(cfg.batch_size, dtype=torch.bool)
        losses: list[float] = []
        for step in run.steps():                                             # 2.
            batch = demo.sample(cfg.batch_size, self.generator)
            loss, terms = self.iq_update(learner, batch, is_expert)          # 3-4.
            losses.append(loss)
            if self.epoch_due(step):
                mean = sum(losses) / len(losses)
                losses = []
                if self.end_epoch(mean, **terms):
                    return


class IQLearnOnline(_IQLearn):
    """IQ-Learn with the agent's own transitions (the paper's online setting)."""

    name: ClassVar[str] = "iq_learn_online"

    def train(self, task: TrainingTask) -> None:
        """Algorithm 1 with one environment step of the current policy before each update."""
        cfg = self.config
        run = self.start_run(online=True)                                    # 1.
        learner, samp, env = run.learner, run.samp, run.env
        assert samp is not None and env is not None
        demo = self.expert_buffer()
        half = max(cfg.batch_size // 2, 1)
        is_expert = torch.cat([torch.ones(half, dtype=torch.bool),
                               torch.zeros(half, dtype=torch.bool)])
        losses: list[float] = []
        try:
            for step in run.steps():                                         # 2.
                self.agent_step(env, learner, samp, step)
                if step > cfg.learning_starts and step % cfg.train_every == 0:
                    batch = balanced_batch(demo, samp, cfg.batch_size, self.generator)
                    loss, run.info = self.iq_update(learner, batch, is_expert)  # 3-4.
                    losses.append(loss)
                if self.epoch_due(step):
                    mean = sum(losses) / len(losses) if losses else 0.0
                    losses = []
                    if self.end_epoch(mean, **run.info):
                        return
        finally:
            env.close()
