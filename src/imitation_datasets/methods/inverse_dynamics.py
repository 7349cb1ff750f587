"""The inverse dynamics model ``M(s, s') -> a`` that BCO, ABCO and IUPE share, as a component.

Learning from observation: the expert's actions are unknown. ``M`` is trained on the agent's own
transitions (random-policy ones first, ``I_pre``), then labels the expert's consecutive state
pairs, and the policy is cloned on those labels. The expert's recorded actions never train
anything; they are read only to report how good the labels are (``idm_accuracy`` for discrete
actions, ``label_mse`` in scaled action units for continuous ones).

``M``'s input is ``[s, s' - s]`` (``idm_input: delta``) or ``[s, s']`` (``pair``), normalised
with statistics of ``I_pre`` and the expert's pairs together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from imitation_datasets.core.episode import Episode
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.methods._data import transitions
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.configuration import MethodConfig
from imitation_datasets.methods.interaction import Interaction, Transitions, transitions_of
from imitation_datasets.methods.networks import ActionModel


@dataclass(frozen=True)
class InverseDynamicsConfig(MethodConfig):
    """Settings of every method with an inverse dynamics model.

    Attributes:
        idm_lr: Adam learning rate of ``M``.
        idm_input: ``"delta"``: ``M([s, s' - s])``; ``"pair"``: ``M([s, s'])``.
        random_steps: ``|I_pre|``, random-policy transitions (the task's first, then played).
    """

    idm_lr: float = 0.001
    idm_input: Literal["delta", "pair"] = "delta"
    random_steps: int = 20000


class InverseDynamics:
    """``M`` with its input rule, its training data and the expert's pairs to label.

    Args:
        model: the network (the method's ``"idm"``, input width ``2 * obs_dim``).
        idm_input: see :class:`InverseDynamicsConfig`.
        expert: the expert's ``(s, a, s')``; ``a`` is only read by :meth:`label_quality`.
        optimizer: the optimiser that trains ``model``.
    """

    def __init__(self, model: ActionModel, idm_input: str, expert: Transitions,
                 optimizer: torch.optim.Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer
        self.idm_input = idm_input
        s, a, s_next = expert
        self.expert_inputs = self.inputs(s, s_next)
        self.expert_targets = model.encode(a)

    @classmethod
    def of(cls, method: Method[Any]) -> InverseDynamics:
        """The component over ``method``'s ``"idm"`` network and its expert (during ``fit``).

        ``M`` is trained with its own Adam optimiser (learning rate ``config.idm_lr``).
        """
        model = method.networks["idm"]
        return cls(model, method.config.idm_input,
                   (method.expert_obs, method.expert_actions, method.expert_next_obs),
                   method.make_optimizer(model, method.config.idm_lr))

    def inputs(self, s: torch.Tensor, s_next: torch.Tensor) -> torch.Tensor:
        """``M``'s input for transitions ``s -> s'``."""
        if self.idm_input == "delta":
            return torch.cat([s, s_next - s], dim=1)
        return torch.cat([s, s_next], dim=1)

    def data(self, s: torch.Tensor, a: torch.Tensor,
             s_next: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Transitions as ``M``'s training data: ``(inputs, encoded actions)``."""
        return self.inputs(s, s_next), self.model.encode(a)

    def data_of(self, episodes: list[Episode]) -> tuple[torch.Tensor, torch.Tensor]:
        """The transitions of played episodes as ``M``'s training data."""
        return self.data(*transitions_of(episodes))

    def pre_demonstration(self, random: DatasetArrays | None, steps: int,
                          interaction: Interaction) -> tuple[torch.Tensor, torch.Tensor]:
        """``I_pre``: ``steps`` random-policy transitions as ``(inputs, targets)``.

        Taken from ``random`` first (in episode order); when it holds fewer, the rest is played
        with seeded random actions. Fits ``M``'s input normaliser on these inputs together with
        the expert's.
        """
        parts: list[Transitions] = []
        have = 0
        if random is not None and random.n_steps:
            s, a, s_next = transitions(random)
            parts.append((s[:steps], a[:steps], s_next[:steps]))
            have = len(parts[0][0])
            interaction.count(have)
        if have < steps:
            parts.append(interaction.play_steps(steps - have, policy=None))
        s, a, s_next = (torch.cat(p) for p in zip(*parts))
        inputs = self.inputs(s, s_next)
        self.model.normaliser.fit(torch.cat([inputs, self.expert_inputs]))
        return inputs, self.model.encode(a)

    def label_quality(self, labels: torch.Tensor) -> dict[str, float]:
        """How close labels of the expert's pairs are to the expert's recorded actions."""
        if self.model.discrete:
            return {"idm_accuracy": float((labels == self.expert_targets).float().mean())}
        return {"label_mse": float(((labels - self.expert_targets) ** 2).mean())}
