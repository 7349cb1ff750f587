"""The discriminator GAIL, GAIfO and AIRL share: network, loss, gradient penalty, reward.

A discriminator is any module ``D(s, a, s', terminated) -> logits`` (the log-odds that a
transition is the expert's): :class:`Discriminator` is GAIL's ``D(s, a)`` and GAIfO's
``D(s, s')``; AIRL's structured ``f(s, s') - log pi(a | s)`` lives in :mod:`.airl`.

* Loss (:func:`discriminator_loss`): binary cross-entropy on logits, expert transitions
  labelled 1 and the policy's 0, the two halves weighted equally (Ho & Ermon's objective,
  with their labels swapped: their ``D`` is the probability of the *policy*).
* Gradient penalty (:func:`gradient_penalty`, optional, ``grad_penalty`` > 0): the WGAN-GP
  term ``lambda E[(||grad D(x_hat)|| - 1)^2]`` on random interpolations of expert and policy
  inputs (Gulrajani et al. 2017), as ikostrikov/pytorch-a2c-ppo-acktr-gail's GAIL does with
  ``lambda = 10``; neither paper uses one.
* Reward (:func:`reward_from_logits`), with ``D = sigmoid(logits)``:
  ``positive`` is ``-log(1 - D)`` (GAIL's paper: the policy minimises the cost
  ``log D_policy``; the form of the ``imitation`` library), always > 0: a survival bonus that
  suits environments whose episodes should last (CartPole) and biases against ones that
  should end early (Acrobot, MountainCar);
  ``negative`` is ``log D`` (< 0: an incentive to end episodes);
  ``logit`` is ``log D - log(1 - D)`` (AIRL's form, the one of ikostrikov's GAIL), unbiased in
  sign.

Inputs: states go through the policy's normaliser (statistics of the expert's states);
discrete actions as one-hot vectors, continuous ones in the scaled ``[-1, 1]`` units.

Absorbing states (optional, ``absorbing: true``; Kostrikov et al. 2019, "Discriminator-Actor-
Critic", section 4.2 and google-research/dac's ``add_absorbing_states``): every state gets an
indicator feature (0 for the environment's states); a *terminating* transition (not a time
limit) leads to the absorbing state ``s_a`` (state features 0, indicator 1), and one
``(s_a, 0, s_a)`` transition follows it, in the expert's data and the policy's alike
(:func:`with_absorbing`), so the discriminator learns what reaching termination is worth
instead of every reward form giving it a fixed value (0 after a terminal step: a bonus for
ending early under ``negative``, a penalty under ``positive``). The absorbing state's action
features are 0 (DAC's zero action; no one-hot class). The learner bootstraps a terminating
step with the self-loop's return, ``gamma r(s_a) / (1 - gamma)`` (:func:`absorbing_reward`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods._data import minibatches
from imitation_datasets.methods.networks import Normaliser, mlp
from imitation_datasets.methods.ppo import PPOConfig

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""``(s, a, s', terminated)``: flattened states, actions in target units, 0/1 floats."""

RewardForm = Literal["positive", "negative", "logit"]


@dataclass(frozen=True)
class AdversarialConfig(PPOConfig):
    """The discriminator's settings, on top of PPO's.

    Attributes:
        disc_lr: Adam learning rate of the discriminator.
        disc_hidden: hidden widths of the discriminator's MLP(s).
        disc_epochs: passes over each rollout per iteration (each policy minibatch is paired
            with as many expert transitions drawn uniformly).
        disc_batch_size: policy transitions per discriminator minibatch.
        absorbing: DAC's absorbing states (module docstring); off by default.
    """

    disc_lr: float = 0.0003
    disc_hidden: tuple[int, ...] = (64, 64)
    disc_epochs: int = 1
    disc_batch_size: int = 256
    absorbing: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("disc_epochs", "disc_batch_size"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{type(self).__name__}: {key!r} must be >= 1, "
                                  f"got {getattr(self, key)}")


def with_absorbing(batch: Batch) -> Batch:
    """``batch`` with DAC's absorbing states: states widened by an indicator column.

    Each terminating transition's ``s'`` becomes the absorbing state and one absorbing
    transition ``(s_a, 0, s_a)`` per terminating one is appended after the batch's own rows
    (which keep their order). No transition of the result terminates.
    """
    s, a, s_next, terminated = batch
    done = terminated.reshape(-1, 1)
    zeros = torch.zeros_like(done)
    s = torch.cat([s, zeros], -1)
    s_next = torch.cat([s_next * (1 - done), done], -1)
    n_abs = int(terminated.sum())
    absorbing = absorbing_states(n_abs, s.shape[1] - 1)
    return (torch.cat([s, absorbing]), torch.cat([a, a.new_zeros((n_abs, *a.shape[1:]))]),
            torch.cat([s_next, absorbing]), torch.zeros(len(s) + n_abs))


def absorbing_states(n: int, obs_dim: int) -> torch.Tensor:
    """``n`` rows of the absorbing state: ``obs_dim`` zeros, then the indicator 1."""
    return torch.cat([torch.zeros(n, obs_dim), torch.ones(n, 1)], -1)


def absorbing_transition(obs_dim: int, action_shape: tuple[int, ...]) -> Batch:
    """The single transition ``(s_a, 0, s_a)`` (not terminating)."""
    state = absorbing_states(1, obs_dim)
    return state, torch.zeros((1, *action_shape)), state, torch.zeros(1)


def state_features(normaliser: Normaliser, s: torch.Tensor, absorbing: bool) -> torch.Tensor:
    """``norm(s)``; with ``absorbing``, ``[norm(s) (1 - i), i]`` for the indicator ``i``."""
    if not absorbing:
        return normaliser(s)
    indicator = s[:, -1:]
    return torch.cat([normaliser(s[:, :-1]) * (1 - indicator), indicator], -1)


class Discriminator(nn.Module):
    """GAIL's ``D(s, a)`` (``pair="state-action"``) or GAIfO's ``D(s, s')`` (``"state-state"``).

    Args:
        obs_dim: width of a flattened state.
        action_dim: width of an action's features (classes for discrete actions).
        pair: what the discriminator sees.
        discrete: one-hot encode actions.
        hidden, activation: the MLP.
        absorbing: states carry DAC's indicator column (:func:`with_absorbing`).
    """

    def __init__(self, obs_dim: int, action_dim: int, pair: Literal["state-action", "state-state"],
                 discrete: bool, hidden: tuple[int, ...], activation: str,
                 absorbing: bool = False) -> None:
        super().__init__()
        self.pair, self.discrete, self.action_dim = pair, discrete, action_dim
        self.absorbing = absorbing
        self.normaliser = Normaliser(obs_dim)
        state_width = obs_dim + int(absorbing)
        width = state_width + (action_dim if pair == "state-action" else state_width)
        self.body = mlp(width, 1, hidden, activation)

    def features(self, s: torch.Tensor, a: torch.Tensor, s_next: torch.Tensor) -> torch.Tensor:
        """The MLP's input: ``[norm(s), a]`` or ``[norm(s), norm(s')]`` (:func:`state_features`).

        With absorbing states, an absorbing state's action features are 0.
        """
        x = state_features(self.normaliser, s, self.absorbing)
        if self.pair == "state-state":
            return torch.cat([x, state_features(self.normaliser, s_next, self.absorbing)], -1)
        if self.discrete:
            a = F.one_hot(a.reshape(-1).long(), self.action_dim).float()
        a = a.reshape(len(s), -1).float()
        if self.absorbing:
            a = a * (1 - s[:, -1:])
        return torch.cat([x, a], -1)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Log-odds of "expert" for rows of :meth:`features`."""
        return self.body(features).squeeze(-1)

    def forward(self, s: torch.Tensor, a: torch.Tensor, s_next: torch.Tensor,
                terminated: torch.Tensor) -> torch.Tensor:
        """Log-odds of "expert" (``terminated`` is not used)."""
        return self.logits(self.features(s, a, s_next))


def discriminator_loss(expert_logits: torch.Tensor, policy_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy: expert transitions labelled 1, the policy's 0, halves averaged."""
    expert = F.binary_cross_entropy_with_logits(expert_logits, torch.ones_like(expert_logits))
    policy = F.binary_cross_entropy_with_logits(policy_logits, torch.zeros_like(policy_logits))
    return 0.5 * (expert + policy)


def gradient_penalty(logits: Callable[[torch.Tensor], torch.Tensor], expert: torch.Tensor,
                     policy: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``E[(||grad_x logits(x_hat)|| - 1)^2]``, ``x_hat`` uniform on expert-policy segments."""
    alpha = torch.rand((len(expert), 1), generator=generator)
    mixed = (alpha * expert + (1 - alpha) * policy).requires_grad_(True)
    (grad,) = torch.autograd.grad(logits(mixed).sum(), mixed, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def reward_from_logits(logits: torch.Tensor, form: RewardForm) -> torch.Tensor:
    """The policy's reward from the discriminator's log-odds (see the module docstring)."""
    if form == "positive":
        return F.softplus(logits)  # -log(1 - sigmoid(x)) = log(1 + e^x)
    if form == "negative":
        return F.logsigmoid(logits)  # log sigmoid(x) = log D
    return logits


def absorbing_reward(reward: torch.Tensor, gamma: float) -> torch.Tensor:
    """What a terminating step adds: ``gamma r(s_a) / (1 - gamma)``.

    The discounted return of the absorbing state's self-loop (``reward`` is ``r(s_a)``): the
    bootstrap ``gamma V(s_a)`` in closed form.
    """
    return gamma * reward / (1 - gamma)


def train_discriminator(disc: nn.Module, optimizer: torch.optim.Optimizer, expert: Batch,
                        policy: Batch, epochs: int, batch_size: int, generator: torch.Generator,
                        grad_penalty: float = 0.0) -> dict[str, float]:
    """``epochs`` passes over the policy's transitions, each minibatch against expert ones.

    Returns the mean loss of the last pass and the discriminator's accuracy on it (expert
    logits > 0, policy logits < 0).
    """
    n_expert = len(expert[0])
    loss_sum = expert_right = policy_right = 0.0
    seen = 0
    for _ in range(epochs):
        loss_sum = expert_right = policy_right = 0.0
        seen = 0
        for batch in minibatches(policy, batch_size, generator):
            index = torch.randint(n_expert, (len(batch[0]),), generator=generator)
            exp_batch = tuple(t[index] for t in expert)
            expert_logits, policy_logits = disc(*exp_batch), disc(*batch)
            loss = discriminator_loss(expert_logits, policy_logits)
            if grad_penalty > 0:
                if not isinstance(disc, Discriminator):
                    raise ConfigError("grad_penalty needs a Discriminator (GAIL or GAIfO)")
                penalty = gradient_penalty(disc.logits, disc.features(*exp_batch[:3]),
                                           disc.features(*batch[:3]), generator)
                loss = loss + grad_penalty * penalty
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            rows = len(batch[0])
            seen += rows
            loss_sum += float(loss.detach()) * rows
            expert_right += float((expert_logits > 0).float().sum())
            policy_right += float((policy_logits < 0).float().sum())
    seen = max(seen, 1)
    return {"disc_loss": loss_sum / seen, "disc_expert_accuracy": expert_right / seen,
            "disc_policy_accuracy": policy_right / seen}
