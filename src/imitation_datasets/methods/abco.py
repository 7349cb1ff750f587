"""Augmented Behavioural Cloning from Observation (ABCO).

Monteiro, Gavenski, Granada, Meneguzzi and Barros, IJCNN 2020.

BCO with self-attention networks for the policy and the inverse dynamics model, and with the
IDM's data drawn from the random policy and from the agent's own episodes in proportion to how
often the agent succeeds:

1. Pre-demonstration: ``I_s = I_pre``, random-policy transitions; ``M`` is trained on them.
2. Each iteration:
   a. improve ``M(s, s') -> a`` on ``I_s``;
   b. label the expert's ``(s, s')`` pairs with ``M``;
   c. improve ``pi`` by behavioural cloning on the labelled expert states;
   d. ``pi`` plays ``interaction_episodes`` episodes ``I_pi``; ``r`` is the fraction whose return
      reaches the task's success threshold;
   e. resample ``I_s``: keep a ``1 - r`` share of its samples and take an ``r`` share from
      ``I_pi`` (same size), so a successful agent replaces random data with its own.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from imitation_datasets.methods.base import ObservationMethod, TrainingTask


class ABCO(ObservationMethod):
    """Augmented Behavioural Cloning from Observation."""

    name: ClassVar[str] = "abco"
    stochastic_exploration: ClassVar[bool] = False
    """Whether the agent samples its actions while exploring (IUPE) or takes the mode."""
    sampled_labels: ClassVar[bool] = False
    """Whether expert labels are sampled from M's distribution (IUPE) or its mode."""

    def train(self, task: TrainingTask) -> None:
        """The ABCO loop above."""
        cfg = self.config
        idm_optimizer = self.make_optimizer(self.idm, cfg["idm_lr"])
        policy_optimizer = self.make_optimizer(self.policy, cfg["lr"])

        # 1. Pre-demonstration.
        idm_inputs, idm_targets = self.pre_demonstration(task)
        idm_loss, success_rate = None, 0.0
        for _ in range(cfg["pretrain_idm_epochs"]):
            idm_loss = self.train_epoch(self.idm, idm_optimizer, idm_inputs, idm_targets)

        for iteration in range(cfg["iterations"]):
            self.iteration = iteration
            # a. Improve M on I_s.
            for _ in range(cfg["idm_epochs"]):
                idm_loss = self.train_epoch(self.idm, idm_optimizer, idm_inputs, idm_targets)
            # b. Label the expert's transitions.
            labels = self.infer_expert_actions(sample=self.sampled_labels)
            # c. Behavioural cloning on the labelled expert states.
            for _ in range(cfg["policy_epochs"]):
                loss = self.train_epoch(self.policy, policy_optimizer, self.expert_obs, labels)
                if self.end_epoch(loss, idm_loss=idm_loss, success_rate=success_rate):
                    return
            if iteration == cfg["iterations"] - 1:
                break
            # d. The agent plays; r is its success rate.
            episodes = self.play_episodes(cfg["interaction_episodes"],
                                          self.actor(stochastic=self.stochastic_exploration))
            returns = np.array([e.episode_return for e in episodes])
            success_rate = float(np.mean(returns >= task.success_threshold))
            # e. Resample I_s by the success rate.
            s, a, s_next = self.transitions_of(episodes)
            new_inputs, new_targets = self.to_idm_data(s, a, s_next)
            idm_inputs, idm_targets = self.resample(idm_inputs, idm_targets, new_inputs,
                                                    new_targets, success_rate)

    def resample(self, inputs: torch.Tensor, targets: torch.Tensor, new_inputs: torch.Tensor,
                 new_targets: torch.Tensor, success_rate: float
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Resample the IDM's data by the agent's success rate ``r``.

        Keeps ``len(inputs)`` samples: a ``1 - r`` share of the current ones and an ``r`` share
        drawn from the agent's new transitions (all of them when there are fewer).
        """
        size = len(inputs)
        take_new = min(int(round(success_rate * size)), len(new_inputs))
        keep = torch.randperm(size, generator=self.generator)[:size - take_new]
        chosen = torch.randperm(len(new_inputs), generator=self.generator)[:take_new]
        return (torch.cat([inputs[keep], new_inputs[chosen]]),
                torch.cat([targets[keep], new_targets[chosen]]))
