"""Adversarial Inverse Reinforcement Learning, AIRL (Fu, Luo and Levine, ICLR 2018).

GAIL's loop (:mod:`.gail`) with AIRL's structured discriminator and reward. Algorithm 1 of
the paper, as run here::

    Obtain expert trajectories tau_E; initialise policy pi and discriminator D_{theta, phi}
    for step t in 1..N
        1. Collect trajectories tau_i by executing pi
        2. Train D_{theta, phi} via binary logistic regression to classify expert data tau_E
           from samples tau_i, where
               D(s, a, s') = exp(f(s, a, s')) / (exp(f(s, a, s')) + pi(a | s))
               f(s, a, s') = g_theta(s) + gamma h_phi(s') - h_phi(s)
        3. Update the reward r(s, a, s') = log D - log(1 - D) = f(s, a, s') - log pi(a | s)
        4. Update pi with respect to r using any policy optimisation method (here PPO)

The log-odds of ``D`` are ``f - log pi(a | s)``, so step 2 is the shared binary cross-entropy
on those logits (:mod:`.discriminator`) and step 3's reward is the logits themselves.
``g(s)`` is the disentangled, state-only reward and ``h(s)`` the shaping term (section 5 of
the paper); both are MLPs over the policy's state normalisation.

Deviations (besides GAIL's: PPO instead of TRPO, a step budget, model selection on
validation seeds):

* ``h(s')`` is masked to 0 after a terminating step (``gamma (1 - terminated) h(s')``, as the
  ``imitation`` library's shaped reward net does); with DAC's absorbing states instead
  (``absorbing``, off by default and in every environment's section; see :mod:`.gail`) a
  terminating step leads to the absorbing state ``s_a``, ``g`` and ``h`` see its indicator,
  nothing is masked, and ``log pi`` at ``s_a`` is 0 (one action there);
* ``log pi(a | s)`` is evaluated under the current policy without gradient, for expert and
  policy transitions alike, at the action the environment executed (continuous: the sample
  clipped to the bounds, in ``[-1, 1]`` units);
* no gradient penalty (``grad_penalty`` must stay 0) and the reward form is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods.discriminator import Batch, RewardForm, state_features
from imitation_datasets.methods.gail import GAIL, GAILConfig
from imitation_datasets.methods.networks import ActionModel, Normaliser, mlp
from imitation_datasets.methods.ppo import log_prob_entropy


@dataclass(frozen=True)
class AIRLConfig(GAILConfig):
    """GAIL's settings; the reward is AIRL's logit and there is no gradient penalty."""

    reward: RewardForm = "logit"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.reward != "logit" or self.grad_penalty != 0:
            raise ConfigError("airl: the reward is f - log pi ('logit') and there is no "
                              f"gradient penalty; got reward={self.reward!r}, "
                              f"grad_penalty={self.grad_penalty}")


class AIRLDiscriminator(nn.Module):
    """Logits ``f(s, s') - log pi(a | s)`` with ``f = g(s) + gamma h(s') - h(s)``.

    Only ``g`` and ``h`` are trained (:meth:`trainable`); the policy is read, never changed.
    """

    def __init__(self, policy: ActionModel, obs_dim: int, gamma: float,
                 hidden: tuple[int, ...], activation: str, absorbing: bool = False) -> None:
        super().__init__()
        self.policy, self.gamma, self.absorbing = policy, gamma, absorbing
        self.normaliser = Normaliser(obs_dim)
        self.g = mlp(obs_dim + int(absorbing), 1, hidden, activation)
        self.h = mlp(obs_dim + int(absorbing), 1, hidden, activation)

    def trainable(self) -> list[nn.Parameter]:
        """The parameters of ``g`` and ``h``."""
        return list(self.g.parameters()) + list(self.h.parameters())

    def f(self, s: torch.Tensor, s_next: torch.Tensor, terminated: torch.Tensor) -> torch.Tensor:
        """``g(s) + gamma (1 - terminated) h(s') - h(s)``."""
        x = state_features(self.normaliser, s, self.absorbing)
        x_next = state_features(self.normaliser, s_next, self.absorbing)
        return (self.g(x) + self.gamma * (1 - terminated.reshape(-1, 1)) * self.h(x_next)
                - self.h(x)).squeeze(-1)

    def forward(self, s: torch.Tensor, a: torch.Tensor, s_next: torch.Tensor,
                terminated: torch.Tensor) -> torch.Tensor:
        """``log D - log(1 - D) = f(s, s') - log pi(a | s)``.

        With absorbing states, ``log pi`` is 0 at the absorbing state (its one action).
        """
        with torch.no_grad():
            if not self.absorbing:
                log_pi, _ = log_prob_entropy(self.policy, s, a)
            else:
                log_pi, _ = log_prob_entropy(self.policy, s[:, :-1], a)
                log_pi = log_pi * (1 - s[:, -1])
        return self.f(s, s_next, terminated) - log_pi


class AIRL(GAIL):
    """Adversarial Inverse Reinforcement Learning (state-only reward ``g`` + shaping ``h``)."""

    name: ClassVar[str] = "airl"
    config_class: ClassVar[type[GAILConfig]] = AIRLConfig

    def make_discriminator(self) -> nn.Module:
        """:class:`AIRLDiscriminator` over the policy."""
        cfg = self.config
        disc = AIRLDiscriminator(self.policy, self.obs_dim, cfg.gamma, cfg.disc_hidden,
                                 cfg.activation, cfg.absorbing)
        disc.normaliser.load_state_dict(self.policy.normaliser.state_dict())
        return disc

    def discriminator_parameters(self, disc: nn.Module) -> list[nn.Parameter]:
        """``g`` and ``h`` only: the policy inside the discriminator is PPO's to train."""
        assert isinstance(disc, AIRLDiscriminator)
        return disc.trainable()

    def rewards(self, disc: nn.Module, batch: Batch) -> torch.Tensor:
        """``f(s, s') - log pi(a | s)``."""
        return disc(*batch)
