"""Generative Adversarial Imitation Learning, GAIL (Ho and Ermon, NeurIPS 2016).

Algorithm 1 of the paper, as run here (numbers of :meth:`GAIL.train`'s comments)::

    Input: expert trajectories tau_E, initial policy and discriminator parameters
    for i = 0, 1, 2, ...
        1. Sample trajectories tau_i ~ pi_theta_i
        2. Update the discriminator from w_i to w_{i+1} with the gradient
           E_tau_i[grad_w log D_w(s, a)] + E_tau_E[grad_w log(1 - D_w(s, a))]
        3. Take a policy step from theta_i to theta_{i+1} on the cost log D_{w_{i+1}}(s, a)
           (the paper: a KL-constrained TRPO step)

Deviations from the paper (and what the paper leaves open):

* the policy step is PPO's clipped objective (:mod:`.ppo`; the paper used TRPO, as did its
  successors' reference code until PPO replaced it, e.g. the ``imitation`` library and
  ikostrikov/pytorch-a2c-ppo-acktr-gail); no causal-entropy term (``ent_coef`` is PPO's
  entropy bonus, 0 by default);
* our ``D`` is the probability of the *expert* (labels swapped, as in both reference
  implementations): step 2 is binary cross-entropy with expert = 1 (:mod:`.discriminator`),
  and the paper's cost ``log D_policy`` is the reward ``-log(1 - D)`` (``reward: positive``,
  the default); ``reward: logit`` (``log D - log(1 - D)``) or ``negative`` (``log D``) are
  per-environment options for tasks whose episodes should end early (the survival bias of a
  positive reward, Kostrikov et al. 2019);
* step 2 is ``disc_epochs`` passes of minibatch Adam over the iteration's rollout, each
  policy minibatch against as many expert transitions drawn uniformly; an optional gradient
  penalty (``grad_penalty``, ikostrikov's ``lambda = 10``; 0 by default, as in the paper);
  rewards optionally divided by a running std of the discounted return
  (``normalise_rewards``, as ikostrikov's GAIL; used on LunarLander);
* a fixed budget of environment steps (``total_steps``) instead of "until convergence"; the
  weights kept are those model selection picks on validation seeds (one ``end_epoch`` per
  iteration; the training loss it records is the discriminator's);
* states are normalised with the expert's statistics (policy, value function and
  discriminator alike); ``obs_normaliser: running`` refits the three after every iteration
  to the states the policy has visited, as ikostrikov's GAIL (``VecNormalize``) does;
* optional absorbing states as DAC does (Kostrikov et al. 2019; ``absorbing``, off by
  default; on only in GAIfO's LunarLander-v3 section: GAIL and AIRL measured worse with
  them there): the discriminator sees an absorbing-state indicator,
  a terminating transition (not a time limit) leads to the absorbing state and is followed by
  one absorbing self-transition with a zero action, in the expert's data and the policy's
  (:func:`~.discriminator.with_absorbing`); PPO's terminating step adds the self-loop's
  return ``gamma r(s_a) / (1 - gamma)`` (DAC's critic bootstraps through the loop; PPO's
  ``V`` of the loop is that closed form).

The expert's actions are used (GAIL imitates state-action pairs; GAIfO, :mod:`.gaifo`, does
not). GAIfO and AIRL run this same loop with their own discriminator
(:meth:`GAIL.make_discriminator`) and reward (:meth:`GAIL.rewards`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.methods import exact
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.discriminator import (
    AdversarialConfig,
    Batch,
    Discriminator,
    RewardForm,
    absorbing_reward,
    absorbing_transition,
    reward_from_logits,
    train_discriminator,
    with_absorbing,
)
from imitation_datasets.methods.networks import ActionModel
from imitation_datasets.methods.ppo import PPO, Rollout, policy_network
from imitation_datasets.methods.records import TrainingTask
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    expect,
    load_module_state,
)

CRITIC_SEED, DISCRIMINATOR_SEED = 1, 2
"""Indices of the seeds (``episode_seed(method seed, index)``) that initialise V and D."""


@dataclass(frozen=True)
class GAILConfig(AdversarialConfig):
    """GAIL's settings.

    Attributes:
        reward: ``positive`` (``-log(1 - D)``, the paper's), ``logit`` or ``negative``.
        grad_penalty: weight of the discriminator's gradient penalty (0: none).
    """

    reward: RewardForm = "positive"
    grad_penalty: float = 0.0


class GAIL(Method[GAILConfig]):
    """Generative Adversarial Imitation Learning (PPO policy steps)."""

    name: ClassVar[str] = "gail"
    config_class: ClassVar[type[GAILConfig]] = GAILConfig
    pair: ClassVar[Literal["state-action", "state-state"]] = "state-action"
    resumable: ClassVar[bool] = True
    _parts: tuple[PPO, nn.Module, torch.optim.Optimizer]

    def build_networks(self) -> dict[str, ActionModel]:
        """The policy (:func:`~.ppo.policy_network`); V and D live only during ``fit``."""
        return {"policy": policy_network(self.obs_dim, self.action_space, self.config)}

    def make_discriminator(self) -> nn.Module:
        """``D(s, a)``, over the policy's state normalisation."""
        n = self.policy.n_actions if self.discrete else self.policy.action_dim
        disc = Discriminator(self.obs_dim, n, self.pair, self.discrete, self.config.disc_hidden,
                             self.config.activation, self.config.absorbing)
        disc.normaliser.load_state_dict(self.policy.normaliser.state_dict())
        return disc

    def discriminator_parameters(self, disc: nn.Module) -> list[nn.Parameter]:
        """What step 2 trains."""
        return list(disc.parameters())

    def rewards(self, disc: nn.Module, batch: Batch) -> torch.Tensor:
        """The policy's reward for each transition of ``batch``."""
        return reward_from_logits(disc(*batch), self.config.reward)

    def expert_batch(self) -> Batch:
        """The expert's ``(s, a, s', terminated)`` in the discriminator's units."""
        terminated = torch.zeros(len(self.expert_obs))
        flags = self.task.expert.terminated
        if len(flags) == len(terminated):  # else the last steps were left out: none terminate
            terminated = torch.as_tensor(flags, dtype=torch.float32)
        return (self.expert_obs, self.policy.encode(self.expert_actions), self.expert_next_obs,
                terminated)

    def policy_rewards(self, disc: nn.Module, batch: Batch) -> torch.Tensor:
        """The rewards PPO gets for the rollout's ``batch``: :meth:`rewards`.

        With absorbing states, each terminating step also gets the absorbing self-loop's
        return (:func:`~.discriminator.absorbing_reward`).
        """
        if not self.config.absorbing:
            return self.rewards(disc, batch)
        rewards = self.rewards(disc, with_absorbing(batch))[:len(batch[0])]
        loop = self.rewards(disc, absorbing_transition(self.obs_dim, tuple(batch[1].shape[1:])))
        return rewards + batch[3] * absorbing_reward(loop, self.config.gamma)

    def train(self, task: TrainingTask) -> None:
        """Algorithm 1 above."""
        cfg = self.config
        ppo = PPO(self.policy, cfg, self.interaction, self.generator,
                  episode_seed(self.seed, CRITIC_SEED))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(episode_seed(self.seed, DISCRIMINATOR_SEED))
            disc = self.make_discriminator()
        disc_optimizer = exact.Adam(self.discriminator_parameters(disc), lr=cfg.disc_lr)
        self._parts = ppo, disc, disc_optimizer
        first = 0 if self.restored_run is None else self.restore_run(self.restored_run) + 1
        expert = self.expert_batch()
        if cfg.absorbing:
            expert = with_absorbing(expert)
        flat = Rollout.flat
        try:
            for iteration in range(first, cfg.iterations):
                self.iteration = iteration
                # 1. Sample trajectories with the current policy (N envs x T steps).
                rollout = ppo.collect()
                batch = (flat(rollout.obs), flat(rollout.actions), flat(rollout.next_obs),
                         flat(rollout.terminated))
                # 2. Discriminator step: expert transitions vs the policy's.
                d_stats = train_discriminator(disc, disc_optimizer, expert,
                                              with_absorbing(batch) if cfg.absorbing else batch,
                                              cfg.disc_epochs, cfg.disc_batch_size,
                                              self.generator, cfg.grad_penalty)
                # 3. Policy step (PPO) on the reward the updated discriminator gives.
                with torch.no_grad():
                    rewards = self.policy_rewards(disc, batch).reshape(rollout.dones.shape)
                p_stats = ppo.update(rollout, rewards)
                if cfg.obs_normaliser == "running":  # D follows the refitted normalisation
                    disc.get_submodule("normaliser").load_state_dict(
                        self.policy.normaliser.state_dict())
                info = {**d_stats, **p_stats, "disc_reward": float(rewards.mean())}
                if rollout.episode_returns:
                    info["rollout_return"] = sum(rollout.episode_returns) / len(
                        rollout.episode_returns)
                if self.end_epoch(d_stats["disc_loss"], **info):
                    return
        finally:
            ppo.close()

    # ------------------------------------------------------------------ resuming a run
    def run_state(self) -> dict[str, Any]:
        """The finished iteration, PPO's state, the discriminator and its optimiser."""
        ppo, disc, disc_optimizer = self._parts
        return {"iteration": self.iteration, "ppo": ppo.state(), "disc": disc.state_dict(),
                "disc_optimizer": disc_optimizer.state_dict()}

    def restore_run(self, state: dict[str, Any]) -> int:
        """Load :meth:`run_state` into this run's parts; returns the finished iteration."""
        ppo, disc, disc_optimizer = self._parts
        where = self.state_source
        iteration = expect(state, "iteration", int, where)
        if not 0 <= iteration < self.config.iterations:
            raise TrainingStateError(f"{where}: iteration {iteration} is outside the budget "
                                     f"{self.config.iterations}")
        load_module_state(disc, state.get("disc"), "discriminator", where)
        load_module_state(disc_optimizer, state.get("disc_optimizer"),
                          "discriminator optimiser", where)
        ppo.restore(expect(state, "ppo", dict, where), where)
        self.iteration = iteration
        return iteration
