"""Imitating Unknown Policies via Exploration (IUPE).

Gavenski, Monteiro, Granada, Meneguzzi and Barros, BMVC 2020.

ABCO (self-attention networks, IDM data resampled by the agent's success rate) with two changes
that keep the agent exploring:

a. while it plays, the agent samples its actions from its policy (discrete: from
   ``softmax(logits)``; continuous: from its Gaussian) instead of taking the most likely one;
b. the expert's labels are sampled from the inverse dynamics model's predicted distribution
   (discrete: one categorical draw per row; continuous: from its Gaussian) instead of taking
   its mode. (The original code drew one random number per class instead of per row.)

At evaluation the policy is deterministic (argmax or mean). Continuous actions need Gaussian
models (``continuous_loss: gaussian``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym

from imitation_datasets.methods.abco import ABCO
from imitation_datasets.methods.configuration import ConfigError


class IUPE(ABCO):
    """Imitating Unknown Policies via Exploration."""

    name: ClassVar[str] = "iupe"
    stochastic_exploration: ClassVar[bool] = True
    sampled_labels: ClassVar[bool] = True

    def __init__(self, observation_space: gym.Space, action_space: gym.Space,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        super().__init__(observation_space, action_space, config, seed)
        if not self.discrete and self.config["continuous_loss"] != "gaussian":
            raise ConfigError("iupe samples actions and labels: continuous actions need "
                              "continuous_loss: gaussian")
