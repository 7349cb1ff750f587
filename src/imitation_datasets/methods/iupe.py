"""Imitating Unknown Policies via Exploration (IUPE).

Gavenski, Monteiro, Granada, Meneguzzi and Barros, "Imitating Unknown Policies via
Exploration", BMVC 2020.

IUPE is ABCO (:mod:`.abco`: attention networks, M's data resampled by the agent's success rate)
with two changes that keep the agent exploring; they are the two methods of :class:`IUPE`:

a. exploration (:meth:`IUPE.explore`, ABCO's step d): while it plays, the agent samples its
   actions from its policy's distribution instead of taking the most likely one;
b. sampled labels (:meth:`IUPE.label_expert`, ABCO's step b): each of the expert's
   ``(s, s')`` pairs is labelled with an action sampled from M's predicted distribution
   instead of its most likely action.

The distributions are :meth:`~.networks.ActionModel.sample`'s: discrete, one categorical draw
per row from ``softmax(logits)``; continuous, ``mean + std * N(0, 1)`` clipped to the bounds.
Every draw comes from the method's seeded generator. At evaluation the policy is deterministic
(argmax or mean).

Deviations from the paper (besides ABCO's, listed in :mod:`.abco`):

* continuous actions (the paper's tasks are discrete): Gaussian models, hence
  ``continuous_loss: gaussian`` is required there;
* the authors' code drew one uniform number per class when sampling labels; here one per row,
  so a label is a draw from the categorical distribution itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import gymnasium as gym
import torch

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods.abco import ABCO, ABCOConfig
from imitation_datasets.methods.inverse_dynamics import InverseDynamics
from imitation_datasets.methods.networks import sampled


@dataclass(frozen=True)
class IUPEConfig(ABCOConfig):
    """ABCO's settings with Gaussian continuous models (IUPE samples actions and labels)."""

    continuous_loss: Literal["mse", "gaussian"] = "gaussian"


class IUPE(ABCO):
    """Imitating Unknown Policies via Exploration."""

    name: ClassVar[str] = "iupe"
    config_class: ClassVar[type[IUPEConfig]] = IUPEConfig

    def __init__(self, observation_space: gym.Space, action_space: gym.Space,
                 config: IUPEConfig | dict[str, Any] | None = None, seed: int = 0) -> None:
        super().__init__(observation_space, action_space, config, seed)
        if not self.discrete and self.config.continuous_loss != "gaussian":
            raise ConfigError("iupe samples actions and labels: continuous actions need "
                              "continuous_loss: gaussian")

    def label_expert(self, idm: InverseDynamics) -> torch.Tensor:
        """(b) One action per expert ``(s, s')`` pair, sampled from M's distribution."""
        return sampled(idm.model, idm.expert_inputs, self.generator)

    def explore(self, count: int) -> list[Episode]:
        """(a) The agent plays ``count`` episodes sampling its actions from its policy."""
        return self.interaction.play_episodes(count, self, deterministic=False)
