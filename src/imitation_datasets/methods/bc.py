"""Behavioural Cloning (Pomerleau, 1991).

Supervised learning of ``pi(s) -> a`` on the expert's state-action pairs.

Discrete actions: cross-entropy. Continuous actions: mean squared error (``continuous_loss:
mse``, the default) or Gaussian negative log-likelihood (``continuous_loss: gaussian``).
"""

from __future__ import annotations

from typing import ClassVar

from imitation_datasets.methods.base import Method, TrainingTask


class BC(Method):
    """Behavioural Cloning."""

    name: ClassVar[str] = "bc"

    def train(self, task: TrainingTask) -> None:
        """For each epoch, minimise ``loss(pi(s), a)`` over the expert's ``(s, a)`` pairs."""
        optimizer = self.make_optimizer(self.policy, self.config["lr"])
        states, actions = self.expert_obs, self.policy.encode(self.expert_actions)
        for _ in range(self.epochs_for(self.config["epochs"])):
            loss = self.train_epoch(self.policy, optimizer, states, actions)
            if self.end_epoch(loss):
                return
