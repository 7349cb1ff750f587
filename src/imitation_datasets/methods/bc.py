"""Behavioural Cloning (Pomerleau, 1991).

Supervised learning of ``pi(s) -> a`` on the expert's state-action pairs::

    for epoch in 1..epochs:
        for each minibatch (s, a) of the expert's transitions:
            minimise loss(pi(s), a)

Discrete actions: cross-entropy. Continuous actions: mean squared error of the mean
(``continuous_loss: mse``, the default) or the Gaussian negative log-likelihood (``gaussian``).

Deviations from the paper (ALVINN, a single network trained on road images by backpropagation):
an MLP (``hidden``, ``activation``) over normalised observations, trained with Adam on shuffled
minibatches; the weights kept are those that model selection picks on validation seeds
(:mod:`.selection`), not the last ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from imitation_datasets.methods.base import Method
from imitation_datasets.methods.configuration import MethodConfig
from imitation_datasets.methods.records import TrainingTask


@dataclass(frozen=True)
class BCConfig(MethodConfig):
    """BC's settings: :class:`~.configuration.MethodConfig` plus the number of epochs.

    Attributes:
        epochs: passes over the expert's transitions (``task.max_epochs`` overrides it).
    """

    epochs: int = 50

    budget_fields: ClassVar[tuple[str, ...]] = ("epochs",)


class BC(Method[BCConfig]):
    """Behavioural Cloning."""

    name: ClassVar[str] = "bc"
    repeats_demos: ClassVar[bool] = True
    config_class: ClassVar[type[BCConfig]] = BCConfig

    def train(self, task: TrainingTask) -> None:
        """For each epoch, minimise ``loss(pi(s), a)`` over the expert's ``(s, a)`` pairs."""
        optimizer = self.make_optimizer(self.policy, self.config.lr)
        states, actions = self.demo_passes(self.expert_obs,
                                           self.policy.encode(self.expert_actions))
        for _ in range(self.epochs_for(self.config.epochs)):
            loss = self.train_epoch(self.policy, optimizer, states, actions)
            if self.end_epoch(loss):
                return
