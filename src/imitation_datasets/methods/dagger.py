"""Dataset Aggregation, DAgger (Ross, Gordon and Bagnell, AISTATS 2011).

"A Reduction of Imitation Learning and Structured Prediction to No-Regret Online Learning".

Human-free: DAgger needs an expert it can *query* at any state, not only recorded
demonstrations. This library ships one for every benchmark environment (the curated NumPy
experts, cheap to query), and the benchmark passes it as ``task.expert_policy``; a task without
one is refused with a one-line :class:`~.records.TaskError`.

Algorithm 3.1 of the paper, as run here (line numbers of :meth:`DAgger.train`'s comments)::

    1. Initialise D <- the task's expert demonstrations (see below).
    2. pi_hat_2 <- train the policy on D.
       for i = 2 .. N:
    3.     beta_i = p ** (i - 1)
    4.     pi_i = beta_i * pi_star + (1 - beta_i) * pi_hat_i (per step: the expert acts with
           probability beta_i, else the learner's most likely action)
    5.     sample episodes with pi_i (``episodes_per_iteration`` of them)
    6.     D_i = {(s, pi_star(s))}: every state pi_i visited, labelled by the queried expert
    7.     D <- D U D_i
    8.     pi_hat_{i+1} <- train the policy on D
    9. return the best pi_hat_i on validation (model selection, :mod:`.selection`)

The paper starts from D = {} with beta_1 = 1: its first iteration plays the expert alone and
records the expert's own trajectories. The task's demonstrations are exactly such trajectories,
so here they *are* iteration 1 (D_1) and play starts at i = 2, where beta_2 = p; p = 0 gives the
paper's other schedule, beta_i = I(i = 1) (the learner alone after the first iteration).

Deviations from the paper:

* iteration 1's trajectories are the task's recorded demonstrations, not played (above), and
  the expert's actions there are the recorded ones;
* "train a classifier on D" is a fixed number of epochs (``initial_epochs`` on the
  demonstrations, then ``epochs_per_iteration`` after each aggregation) that continue from the
  current weights and optimiser state instead of training a fresh policy to convergence; the
  observation normaliser keeps the statistics of the demonstrations;
* the learner plays its most likely action (argmax, or the mean);
* the per-step coin is drawn per policy call, one per row, from a NumPy generator seeded with
  ``episode_seed(method seed, i)``; the rollout steps ``interaction.N_ENVS`` environments in a
  fixed order, so the coins (and the run) are reproducible;
* the weights kept are those model selection picks on validation seeds, evaluated every
  ``eval_every`` epochs rather than once per iteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from imitation_datasets.core.acting import batch_actions
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.configuration import MethodConfig, require_at_least
from imitation_datasets.methods.records import TaskError, TrainingTask


@dataclass(frozen=True)
class DAggerConfig(MethodConfig):
    """DAgger's settings.

    Attributes:
        iterations: N, the paper's iterations, counting the demonstrations as the first one
            (``N - 1`` iterations are played).
        beta_decay: p of the schedule ``beta_i = p ** (i - 1)`` (0: ``beta_i = I(i = 1)``).
        episodes_per_iteration: episodes pi_i plays per iteration.
        initial_epochs: epochs on the demonstrations before the first played iteration.
        epochs_per_iteration: epochs on the aggregated D after each iteration.
    """

    iterations: int = 6
    beta_decay: float = 0.5
    episodes_per_iteration: int = 10
    initial_epochs: int = 50
    epochs_per_iteration: int = 10

    budget_fields: ClassVar[tuple[str, ...]] = ("iterations",)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(self, {"iterations": 1, "episodes_per_iteration": 1,
                                "initial_epochs": 1, "epochs_per_iteration": 0})
        if not 0.0 <= self.beta_decay <= 1.0:
            raise ConfigError(f"{type(self).__name__}: 'beta_decay' must be in [0, 1], "
                              f"got {self.beta_decay}")


class Mixture:
    """``pi_i = beta * expert + (1 - beta) * learner``, drawn per step (per row of a batch).

    Args:
        expert: the queried expert (``predict`` returning actions or ``(actions, state)``).
        learner: the policy being trained.
        beta: probability that the expert acts.
        rng: the seeded generator of the coins.

    ``expert_steps`` and ``steps`` count the rows the expert and anyone acted on.
    """

    def __init__(self, expert: Any, learner: Any, beta: float, rng: np.random.Generator) -> None:
        self.expert = expert
        self.learner = learner
        self.beta = float(beta)
        self.rng = rng
        self.expert_steps = 0
        self.steps = 0

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch: one coin per row picks the expert's or the learner's action."""
        obs = np.asarray(obs)
        expert_acts = self.rng.random(len(obs)) < self.beta
        actions = np.array(batch_actions(self.learner, obs, deterministic))
        if expert_acts.any():
            chosen = batch_actions(self.expert, obs[expert_acts], True)
            actions[expert_acts] = chosen.astype(actions.dtype).reshape(
                actions[expert_acts].shape)
        self.expert_steps += int(expert_acts.sum())
        self.steps += len(obs)
        return actions


class DAgger(Method[DAggerConfig]):
    """Dataset Aggregation."""

    name: ClassVar[str] = "dagger"
    repeats_demos: ClassVar[bool] = True
    config_class: ClassVar[type[DAggerConfig]] = DAggerConfig

    def train(self, task: TrainingTask) -> None:
        """The DAgger loop above."""
        expert = task.expert_policy
        if expert is None:
            raise TaskError(f"{self.name}: the task has no expert_policy (DAgger queries the "
                            "expert at the states it visits)")
        cfg = self.config
        optimizer = self.make_optimizer(self.policy, cfg.lr)
        # 1. D <- the demonstrations (the paper's first iteration, beta_1 = 1).
        states, actions = self.expert_obs, self.expert_actions
        # 2. pi_hat_2 <- train on D (the demonstrations repeated like BC's: demo_passes).
        demo_states, demo_targets = self.demo_passes(states, self.policy.encode(actions))
        for _ in range(cfg.initial_epochs):
            loss = self.train_epoch(self.policy, optimizer, demo_states, demo_targets)
            if self.end_epoch(loss, beta=1.0, dataset_size=float(len(states))):
                return
        for i in range(2, cfg.iterations + 1):
            self.iteration = i - 1
            # 3-4. The mixture policy pi_i.
            beta = cfg.beta_decay ** (i - 1)
            pi_i = Mixture(expert, self, beta, np.random.default_rng(episode_seed(self.seed, i)))
            # 5. Sample episodes with pi_i (seeded, counted by the interaction service).
            episodes = self.interaction.play_episodes(cfg.episodes_per_iteration, pi_i,
                                                      deterministic=True)
            # 6. D_i: the visited states, labelled by the expert.
            new_states, new_actions = self.expert_labels(expert,
                                                         np.concatenate([e.obs for e in episodes]))
            # 7. D <- D U D_i.
            states = torch.cat([states, new_states])
            actions = torch.cat([actions, new_actions])
            # 8. pi_hat_{i+1} <- train on D.
            info = {"beta": beta, "dataset_size": float(len(states)),
                    "expert_step_share": pi_i.expert_steps / max(pi_i.steps, 1),
                    "iteration_return": float(np.mean([e.episode_return for e in episodes]))}
            targets = self.policy.encode(actions)
            for _ in range(cfg.epochs_per_iteration):
                loss = self.train_epoch(self.policy, optimizer, states, targets)
                if self.end_epoch(loss, **info):
                    return

    def expert_labels(self, expert: Any, obs: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Step 6: ``(s, pi_star(s))`` for visited observations, as training tensors.

        States are flattened float32 rows; actions have the dtype and width of the
        demonstrations' actions.
        """
        labels = np.asarray(batch_actions(expert, obs, True))
        s = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32).reshape(len(obs), -1))
        a = torch.as_tensor(labels).to(self.expert_actions.dtype)
        return s, a.reshape(len(obs), *self.expert_actions.shape[1:])
