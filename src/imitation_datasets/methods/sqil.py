"""Soft Q Imitation Learning, SQIL (Reddy, Dragan and Levine, ICLR 2020).

Imitation as reinforcement learning with a constant reward: the expert's transitions get
reward 1, the agent's own transitions reward 0, and a soft Q-learner (SAC for continuous
actions) trains on both. Algorithm 1 of the paper, as run by :meth:`SQIL.train` (its comments
give the line numbers)::

    1. D_demo <- demonstrations with r = 1;  D_samp <- {}
    2. repeat:
    3.   theta <- theta - eta grad_theta [delta^2(D_demo, 1) + lambda_samp delta^2(D_samp, 0)]
    4.   sample (s, a, s') with the imitation policy pi(a|s) ~ exp(Q(s, a) / alpha)
    5.   D_samp <- D_samp + {(s, a, s')}

with ``delta^2`` the squared soft Bellman error
``(Q(s, a) - (r + gamma V(s')))^2``, ``V(s) = alpha log sum_a exp(Q(s, a) / alpha)``.

What this file follows and where it deviates:

* balanced minibatches as the paper's experiments: half from D_demo, half from D_samp
  (``lambda_samp = 1``); each half has ``batch_size // 2`` transitions;
* ``V(s')`` comes from a target network updated by Polyak averaging (``tau``), a standard
  soft-Q/SAC choice the paper's pseudocode leaves open; ``done`` (terminated, never a time-limit
  truncation) stops bootstrapping, for the expert's transitions too (the paper does not discuss
  absorbing states);
* continuous actions: SAC (twin critics, tanh-Gaussian actor, optional learned temperature)
  with the same 1/0 rewards, as the paper does for its continuous tasks; discrete actions have no
  actor (the policy is ``softmax(Q / alpha)``) and ``predict`` plays ``argmax Q``;
* the loop takes one environment step then one gradient step (after ``learning_starts`` random
  steps, which fill D_samp first); the run stops after ``steps`` environment steps rather than
  at convergence, and the weights kept are those model selection picks on validation seeds
  (``end_epoch`` every ``steps_per_epoch`` environment steps);
* the expert's next states are those the dataset records (final observation after the last
  step);
* hyperparameters (``config/sqil.yaml``) are SAC-standard (batch 256, Adam 3e-4,
  ``tau = 0.005``, 100k buffer) with temperature 0.01 for discrete actions (the soft-Q default
  of the IQ-Learn authors' code, which also runs SQIL) and a learned temperature starting at 0.1
  for continuous actions; they were not taken from the SQIL authors' code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from imitation_datasets.methods.records import TrainingTask
from imitation_datasets.methods.replay import balanced_batch
from imitation_datasets.methods.soft_q import (
    SoftQConfig,
    SoftQMethod,
)

EXPERT_REWARD = 1.0
AGENT_REWARD = 0.0


@dataclass(frozen=True)
class SQILConfig(SoftQConfig):
    """SQIL's settings: those of the soft-Q learner (:class:`~.soft_q.SoftQConfig`)."""


class SQIL(SoftQMethod[SQILConfig]):
    """Soft Q Imitation Learning."""

    name: ClassVar[str] = "sqil"
    config_class: ClassVar[type[SQILConfig]] = SQILConfig

    def train(self, task: TrainingTask) -> None:
        """The SQIL loop above."""
        cfg = self.config
        # 1. D_demo: the demonstrations with reward 1; D_samp: the agent's, reward 0.
        demo = self.expert_buffer(reward=EXPERT_REWARD)
        run = self.start_run(online=True)  # D_samp, the learner, the environment
        learner, samp, env = run.learner, run.samp, run.env
        assert samp is not None and env is not None
        losses: list[float] = []
        try:
            for step in run.steps():
                # 4-5. One step of the imitation policy (random at first) into D_samp, r = 0.
                self.agent_step(env, learner, samp, step, reward=AGENT_REWARD)
                # 3. A gradient step on the squared soft Bellman errors of a balanced batch.
                if step > cfg.learning_starts and step % cfg.train_every == 0:
                    batch = balanced_batch(demo, samp, cfg.batch_size, self.generator)
                    loss = learner.bellman_loss(batch)
                    learner.critic_step(loss)
                    learner.actor_step(batch[0])
                    losses.append(float(loss.detach()))
                if self.epoch_due(step):
                    mean = sum(losses) / len(losses) if losses else 0.0
                    losses = []
                    if self.end_epoch(mean, alpha=learner.alpha):
                        return
        finally:
            env.close()
