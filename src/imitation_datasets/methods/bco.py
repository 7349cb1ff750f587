"""Behavioural Cloning from Observation (Torabi, Warnell and Stone, IJCAI 2018).

The expert's actions are unknown: only its states are used.

1. Pre-demonstration: a random policy interacts with the environment; its transitions
   ``I_pre = {(s, a, s')}`` train an inverse dynamics model ``M(s, s') -> a``.
2. ``M`` infers the action the expert took between each pair of its consecutive states.
3. The policy is trained by behavioural cloning on the expert's states and the inferred actions.
4. BCO(alpha), post-demonstration: for ``post_iterations`` iterations the current policy runs
   for ``alpha * |I_pre|`` environment steps; its transitions are added to ``M``'s data, ``M``
   is retrained, the expert is relabelled and the policy retrained. BCO(0) stops after step 3.

The expert's recorded actions are read only to report how good ``M``'s labels are.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from imitation_datasets.methods.base import ObservationMethod, TrainingTask


class BCO(ObservationMethod):
    """Behavioural Cloning from Observation, BCO(alpha)."""

    name: ClassVar[str] = "bco"

    def train(self, task: TrainingTask) -> None:
        """The BCO(alpha) loop above."""
        cfg = self.config
        idm_optimizer = self.make_optimizer(self.idm, cfg["idm_lr"])
        policy_optimizer = self.make_optimizer(self.policy, cfg["lr"])

        # 1. Pre-demonstration: learn M from the random policy's transitions I_pre.
        idm_inputs, idm_targets = self.pre_demonstration(task)
        idm_loss = None
        pre_steps = len(idm_inputs)
        for _ in range(cfg["idm_epochs"]):
            idm_loss = self.train_epoch(self.idm, idm_optimizer, idm_inputs, idm_targets)

        policy_epochs = cfg["policy_epochs"]
        for iteration in range(cfg["post_iterations"] + 1):
            self.iteration = iteration
            # 2. Infer the expert's actions from its (s, s') pairs.
            labels = self.infer_expert_actions()
            # 3. Behavioural cloning on (s, inferred a).
            for _ in range(policy_epochs):
                loss = self.train_epoch(self.policy, policy_optimizer, self.expert_obs, labels)
                if self.end_epoch(loss, idm_loss=idm_loss):
                    return
            if iteration == cfg["post_iterations"]:
                break
            # 4. Post-demonstration: run pi for alpha * |I_pre| steps, grow I, retrain M.
            s, a, s_next = self.play_steps(int(cfg["alpha"] * pre_steps), policy=self)
            new_inputs, new_targets = self.to_idm_data(s, a, s_next)
            idm_inputs = torch.cat([idm_inputs, new_inputs])
            idm_targets = torch.cat([idm_targets, new_targets])
            for _ in range(cfg["post_idm_epochs"]):
                idm_loss = self.train_epoch(self.idm, idm_optimizer, idm_inputs, idm_targets)
            policy_epochs = cfg["post_policy_epochs"]
