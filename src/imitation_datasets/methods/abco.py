"""Augmented Behavioural Cloning from Observation (ABCO).

Monteiro, Gavenski, Granada, Meneguzzi and Barros, "Augmented Behavioral Cloning from
Observation", IJCNN 2020.

BCO with the paper's two additions: (i) self-attention in the policy and the inverse dynamics
model (:class:`AttentionMLP`, below), and (ii) a sampling strategy that regulates which
transitions train the inverse dynamics model, by how often the agent succeeds. As run here::

    1. Pre-demonstration: I_s = I_pre, random-policy transitions; M is trained on them.
    2. For each iteration:
       a. improve M(s, s') -> a on I_s;
       b. label the expert's (s, s') pairs with M (its most likely action);
       c. improve pi by behavioural cloning on the labelled expert states;
       d. pi plays ``interaction_episodes`` episodes I_pos (its most likely actions); r is the
          fraction of them whose return reaches ``task.success_threshold``;
       e. resample I_s by r (below).
       The last iteration stops after c.

Resampling variant implemented (step e): ``|I_s|`` stays ``|I_pre|``. A ``1 - r`` share of it
is kept, drawn uniformly without replacement from the *current* ``I_s``, and an ``r`` share is
drawn from *this iteration's* ``I_pos`` (all of it when it holds fewer transitions). The paper
describes the step as sampling ``I_s`` from ``I_pre`` and ``I_pos`` weighted by the agent's win
ratio; this variant draws the kept share from the current ``I_s`` rather than from ``I_pre`` (so
earlier agent data can survive) and the new share from the latest episodes only. It is this
repository's reading of the paper's description, not checked against the authors' code.
Success is a return at or above ``task.success_threshold`` (the benchmark uses the dataset's
acceptance threshold); a task without one is refused, so resampling is never silently off.

Deviations from the paper:

* the attention body is this repository's design for vector observations (below), not the
  paper's networks;
* a fixed number of iterations (``iterations``) and of epochs per step (``pretrain_idm_epochs``,
  ``idm_epochs``, ``policy_epochs``); M and pi keep their weights across iterations;
* "the agent reached its goal" is "the episode's return reaches the success threshold";
* ``I_pre`` comes from the task's random-policy episodes first; M's input is ``[s, s' - s]`` by
  default (``idm_input``), normalised;
* the weights kept are those model selection picks on validation seeds (:mod:`.selection`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from imitation_datasets.core.episode import Episode
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.inverse_dynamics import InverseDynamics, InverseDynamicsConfig
from imitation_datasets.methods.networks import ActionModel, mlp, most_likely
from imitation_datasets.methods.records import TaskError, TrainingTask


@dataclass(frozen=True)
class ABCOConfig(InverseDynamicsConfig):
    """ABCO's settings.

    Attributes:
        hidden: widths of the MLP after the attention block.
        tokens: feature tokens the input is projected to.
        token_dim: width of a token (divisible by ``heads``).
        heads: attention heads.
        pretrain_idm_epochs: epochs of M on I_pre before the first iteration.
        iterations: iterations of step 2.
        idm_epochs: epochs of M per iteration (step a).
        policy_epochs: behavioural-cloning epochs per iteration (step c).
        interaction_episodes: episodes the agent plays per iteration (step d).
    """

    hidden: tuple[int, ...] = (64,)
    tokens: int = 4
    token_dim: int = 16
    heads: int = 1
    pretrain_idm_epochs: int = 30
    iterations: int = 20
    idm_epochs: int = 1
    policy_epochs: int = 5
    interaction_episodes: int = 16

    budget_fields: ClassVar[tuple[str, ...]] = ("iterations",)


class AttentionMLP(nn.Module):
    """Self-attention over learned feature tokens, then an MLP: ABCO's network body.

    The input is projected to ``tokens`` feature vectors of width ``token_dim`` (plus a learned
    position embedding); one multi-head self-attention block with a residual connection and
    layer normalisation lets every feature attend to the others; the attended tokens are
    flattened and mapped to the output by an MLP.

    The attention itself is ``F.scaled_dot_product_attention``. ``nn.MultiheadAttention`` would
    hold the same projections in another parameter layout with another initialisation, which
    changes the committed ABCO/IUPE cells; hence the projections here.
    """

    def __init__(self, in_dim: int, out_dim: int, tokens: int = 8, token_dim: int = 16,
                 heads: int = 2, hidden: Sequence[int] = (64,), activation: str = "relu") -> None:
        super().__init__()
        if token_dim % heads:
            raise ValueError(f"token_dim ({token_dim}) must be divisible by heads ({heads})")
        self.tokens, self.token_dim, self.heads = tokens, token_dim, heads
        self.embed = nn.Linear(in_dim, tokens * token_dim)
        self.position = nn.Parameter(0.02 * torch.randn(tokens, token_dim))
        self.qkv = nn.Linear(token_dim, 3 * token_dim)
        self.out = nn.Linear(token_dim, token_dim)
        self.norm = nn.LayerNorm(token_dim)
        self.head = mlp(tokens * token_dim, out_dim, hidden, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_dim) -> (B, out_dim)``."""
        batch = x.shape[0]
        t = self.embed(x).view(batch, self.tokens, self.token_dim) + self.position
        q, k, v = self.qkv(t).view(batch, self.tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v)
        attended = attended.transpose(1, 2).reshape(batch, self.tokens, self.token_dim)
        t = self.norm(t + self.out(attended))
        return self.head(t.flatten(1))


class ABCO(Method[ABCOConfig]):
    """Augmented Behavioural Cloning from Observation."""

    name: ClassVar[str] = "abco"
    repeats_demos: ClassVar[bool] = True
    config_class: ClassVar[type[ABCOConfig]] = ABCOConfig

    def build_networks(self) -> dict[str, ActionModel]:
        """The policy ``pi(s)`` and the inverse dynamics model ``M(s, s')``, both attentive."""
        cfg = self.config
        attention = partial(AttentionMLP, tokens=cfg.tokens, token_dim=cfg.token_dim,
                            heads=cfg.heads, hidden=cfg.hidden, activation=cfg.activation)
        return {"policy": self.make_model(self.obs_dim, attention),
                "idm": self.make_model(2 * self.obs_dim, attention)}

    def train(self, task: TrainingTask) -> None:
        """The ABCO loop above."""
        if task.success_threshold is None:
            raise TaskError(f"{self.name}: the task has no success_threshold (the return that "
                            "counts as a success drives the resampling of I_s)")
        cfg = self.config
        idm = InverseDynamics.of(self)  # M(s, s'), its optimiser, the expert's pairs to label
        policy_optimizer = self.make_optimizer(self.policy, cfg.lr)

        # 1. Pre-demonstration: I_s = I_pre.
        idm_inputs, idm_targets = idm.pre_demonstration(task.random, cfg.random_steps,
                                                        self.interaction)
        idm_loss, success_rate = None, 0.0
        for _ in range(cfg.pretrain_idm_epochs):
            idm_loss = self.train_epoch(idm.model, idm.optimizer, idm_inputs, idm_targets)

        for iteration in range(cfg.iterations):
            self.iteration = iteration
            # a. Improve M on I_s.
            for _ in range(cfg.idm_epochs):
                idm_loss = self.train_epoch(idm.model, idm.optimizer, idm_inputs, idm_targets)
            # b. Label the expert's transitions.
            labels = self.label_expert(idm)
            quality = idm.label_quality(labels)
            # c. Behavioural cloning on the labelled expert states.
            states, targets = self.demo_passes(self.expert_obs, labels)
            for _ in range(cfg.policy_epochs):
                loss = self.train_epoch(self.policy, policy_optimizer, states, targets)
                if self.end_epoch(loss, idm_loss=idm_loss, **quality, success_rate=success_rate):
                    return
            if iteration == cfg.iterations - 1:
                break
            # d. The agent plays I_pos; r is its success rate.
            episodes = self.explore(cfg.interaction_episodes)
            returns = np.array([e.episode_return for e in episodes])
            success_rate = float(np.mean(returns >= task.success_threshold))
            # e. Resample I_s by the success rate.
            new_inputs, new_targets = idm.data_of(episodes)
            idm_inputs, idm_targets = self.resample(idm_inputs, idm_targets, new_inputs,
                                                    new_targets, success_rate)

    def label_expert(self, idm: InverseDynamics) -> torch.Tensor:
        """Step b: M's most likely action for each of the expert's ``(s, s')`` pairs."""
        return most_likely(idm.model, idm.expert_inputs)

    def explore(self, count: int) -> list[Episode]:
        """Step d: the agent plays ``count`` training episodes with its most likely actions."""
        return self.interaction.play_episodes(count, self, deterministic=True)

    def resample(self, inputs: torch.Tensor, targets: torch.Tensor, new_inputs: torch.Tensor,
                 new_targets: torch.Tensor, success_rate: float
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Step e: resample M's data ``I_s`` by the agent's success rate ``r``.

        Keeps ``len(inputs)`` samples: a ``1 - r`` share of the current ones and an ``r`` share
        drawn from the agent's new transitions (all of them when there are fewer).
        """
        size = len(inputs)
        take_new = min(int(round(success_rate * size)), len(new_inputs))
        keep = torch.randperm(size, generator=self.generator)[:size - take_new]
        chosen = torch.randperm(len(new_inputs), generator=self.generator)[:take_new]
        return (torch.cat([inputs[keep], new_inputs[chosen]]),
                torch.cat([targets[keep], new_targets[chosen]]))
