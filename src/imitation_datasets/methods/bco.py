"""Behavioural Cloning from Observation, BCO(alpha) (Torabi, Warnell and Stone, IJCAI 2018).

The expert's actions are unknown: only its states are used. Algorithm 1 of the paper, as run
here (line numbers of :meth:`BCO.train`'s comments)::

    1. Pre-demonstration: a random policy interacts with the environment; its transitions
       I_pre = {(s, a, s')} train an inverse dynamics model M(s, s') -> a.
    2. M infers the action the expert took between each pair of its consecutive states.
    3. The policy pi is trained by behavioural cloning on the expert's states and the
       inferred actions.
    4. BCO(alpha), post-demonstration: pi runs for alpha * |I_pre| environment steps; its
       transitions are appended to M's data, M is retrained, then 2 and 3 again.
       BCO(0) stops after step 3.

Deviations from the paper:

* "while policy improvement" is a fixed number of post-demonstration iterations
  (``post_iterations``); M and pi keep training from their current weights for a fixed number
  of epochs (``idm_epochs`` then ``post_idm_epochs``; ``policy_epochs`` then
  ``post_policy_epochs``) rather than to convergence;
* pi plays its most likely actions after the demonstration (the paper does not say);
* ``I_pre`` comes from the task's random-policy episodes first (played only when they are too
  few), and M's input is ``[s, s' - s]`` by default (``idm_input``), normalised;
* the weights kept are those model selection picks on validation seeds (:mod:`.selection`).

The expert's recorded actions are read only to report how good M's labels are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from imitation_datasets.methods.base import Method
from imitation_datasets.methods.inverse_dynamics import InverseDynamics, InverseDynamicsConfig
from imitation_datasets.methods.networks import ActionModel, most_likely
from imitation_datasets.methods.records import TrainingTask


@dataclass(frozen=True)
class BCOConfig(InverseDynamicsConfig):
    """BCO(alpha)'s settings.

    Attributes:
        idm_epochs: epochs of M on I_pre (step 1).
        policy_epochs: behavioural-cloning epochs on the first labels (step 3).
        alpha: post-demonstration steps per iteration, as a fraction of ``|I_pre|``.
        post_iterations: post-demonstration iterations (0: BCO(0)).
        post_idm_epochs: epochs of M after each post-demonstration interaction.
        post_policy_epochs: behavioural-cloning epochs after each relabelling.
    """

    idm_epochs: int = 30
    policy_epochs: int = 50
    alpha: float = 0.25
    post_iterations: int = 6
    post_idm_epochs: int = 10
    post_policy_epochs: int = 20

    budget_fields: ClassVar[tuple[str, ...]] = ("post_iterations",)


class BCO(Method[BCOConfig]):
    """Behavioural Cloning from Observation, BCO(alpha)."""

    name: ClassVar[str] = "bco"
    repeats_demos: ClassVar[bool] = True
    config_class: ClassVar[type[BCOConfig]] = BCOConfig

    def build_networks(self) -> dict[str, ActionModel]:
        """The policy ``pi(s)`` and the inverse dynamics model ``M(s, s')`` (both MLPs)."""
        return {"policy": self.make_model(self.obs_dim),
                "idm": self.make_model(2 * self.obs_dim)}

    def train(self, task: TrainingTask) -> None:
        """The BCO(alpha) loop above."""
        cfg = self.config
        idm = InverseDynamics.of(self)  # M(s, s'), its optimiser, the expert's pairs to label
        policy_optimizer = self.make_optimizer(self.policy, cfg.lr)

        # 1. Pre-demonstration: learn M from the random policy's transitions I_pre.
        idm_inputs, idm_targets = idm.pre_demonstration(task.random, cfg.random_steps,
                                                        self.interaction)
        idm_loss = None
        pre_steps = len(idm_inputs)
        for _ in range(cfg.idm_epochs):
            idm_loss = self.train_epoch(idm.model, idm.optimizer, idm_inputs, idm_targets)

        policy_epochs = cfg.policy_epochs
        for iteration in range(cfg.post_iterations + 1):
            self.iteration = iteration
            # 2. Infer the expert's actions from its (s, s') pairs.
            labels = most_likely(idm.model, idm.expert_inputs)
            quality = idm.label_quality(labels)
            # 3. Behavioural cloning on (s, inferred a).
            states, targets = self.demo_passes(self.expert_obs, labels)
            for _ in range(policy_epochs):
                loss = self.train_epoch(self.policy, policy_optimizer, states, targets)
                if self.end_epoch(loss, idm_loss=idm_loss, **quality):
                    return
            if iteration == cfg.post_iterations:
                break
            # 4. Post-demonstration: run pi for alpha * |I_pre| steps, grow M's data, retrain M.
            s, a, s_next = self.interaction.play_steps(int(cfg.alpha * pre_steps), policy=self,
                                                       deterministic=True)
            new_inputs, new_targets = idm.data(s, a, s_next)
            idm_inputs = torch.cat([idm_inputs, new_inputs])
            idm_targets = torch.cat([idm_targets, new_targets])
            for _ in range(cfg.post_idm_epochs):
                idm_loss = self.train_epoch(idm.model, idm.optimizer, idm_inputs, idm_targets)
            policy_epochs = cfg.post_policy_epochs
