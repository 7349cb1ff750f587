"""Network builders shared by every method: MLP and attention bodies, action heads.

A method's networks are :class:`ActionModel` s: an input normaliser, a body (:func:`mlp` unless
the method builds its own, as ABCO does with its attention body) and an action head that knows
the action space:

* ``Discrete(n)``: ``n`` logits; loss is cross-entropy; the mode is the argmax; a sample is
  drawn per row from ``softmax(logits)``.
* ``Box``: actions are scaled to ``[-1, 1]`` by the space's bounds (unbounded dimensions are
  left as they are). The head predicts a mean and a log standard deviation; the loss is the
  mean squared error of the mean (``"mse"``) or the Gaussian negative log-likelihood
  (``"gaussian"``); the mode is the mean; a sample is ``mean + std * N(0, 1)``. Predictions
  are clipped to the bounds: continuous actions are never rounded or cast to integers.

Randomness comes only from the ``torch.Generator`` passed to :meth:`ActionModel.sample` and
from the global torch RNG at construction (which :class:`~.base.Method` seeds and restores).

Library functions are used where they give the same numbers: ``F.cross_entropy``, ``F.mse_loss``
(and ``F.scaled_dot_product_attention`` in ABCO's body). Three pieces stay hand-written because the
library form changes the committed benchmark cells (checked, see each one): the Gaussian
negative log-likelihood, the categorical draw and the Gaussian draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual name
from torch import nn

from imitation_datasets.methods import exact
from imitation_datasets.methods.training_state import expect, expect_tensor

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
NORMALISED_CLIP = 10.0

BodyFactory = Callable[[int, int], nn.Module]
"""Builds a network body ``(in_dim, out_dim) -> module`` (e.g. ``partial(mlp, hidden=...)``)."""


def mlp(in_dim: int, out_dim: int, hidden: Sequence[int] = (64, 64),
        activation: str = "relu") -> nn.Sequential:
    """A multilayer perceptron ``in -> hidden... -> out`` (no activation after the last layer)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    width = in_dim
    for size in hidden:
        layers += [nn.Linear(width, int(size)), ACTIVATIONS[activation]()]
        width = int(size)
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class Normaliser(nn.Module):
    """``clip((x - mean) / std, -10, 10)`` with statistics fitted on training data."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, x: torch.Tensor) -> None:
        """Set the statistics from ``x`` (rows are samples); tiny deviations are floored."""
        x = x.double()
        self.set_moments(x.mean(0), x.std(0, correction=0))

    def set_moments(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Set the statistics to ``mean`` and ``std`` (float64 moments; tiny ``std`` floored)."""
        self.mean.copy_(mean.float())
        self.std.copy_(std.clamp_min(1e-6).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``x``."""
        return ((x - self.mean) / self.std).clamp(-NORMALISED_CLIP, NORMALISED_CLIP)


class StateMoments:
    """Mean and variance of every state the policy's rollouts visited (float64).

    Chan et al.'s parallel update of the pooled moments, one batch of states at a time, as
    Stable-Baselines3's ``VecNormalize`` keeps them for observations. What an online method's
    ``obs_normaliser: running`` refits its :class:`Normaliser` s to.
    """

    def __init__(self, dim: int) -> None:
        self.count = 0
        self.mean = torch.zeros(dim, dtype=torch.float64)
        self.m2 = torch.zeros(dim, dtype=torch.float64)

    def update(self, states: torch.Tensor) -> None:
        """Pool the rows of ``states`` (``[n, dim]``) into the moments."""
        x = states.double()
        n = len(x)
        mean = x.mean(0)
        total = self.count + n
        delta = mean - self.mean
        self.m2 = self.m2 + ((x - mean) ** 2).sum(0) + delta ** 2 * (self.count * n / total)
        self.mean = self.mean + delta * (n / total)
        self.count = total

    def std(self) -> torch.Tensor:
        """The pooled standard deviation (population form, as :meth:`Normaliser.fit`)."""
        return exact.sqrt(self.m2 / self.count)

    def state(self) -> dict[str, Any]:
        """The moments (for a resumed run)."""
        return {"count": self.count, "mean": self.mean, "m2": self.m2}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state`."""
        self.count = expect(state, "count", int, where)
        self.mean = expect_tensor(state, "mean", self.mean, where).clone()
        self.m2 = expect_tensor(state, "m2", self.m2, where).clone()


class ActionModel(nn.Module):
    """``normaliser -> body -> action head``: a policy ``pi(s)`` or an inverse dynamics model.

    Args:
        in_dim: width of the (flattened) input.
        action_space: ``Discrete`` or ``Box``.
        body: builds the body from ``(in_dim, out_dim)``; ``out_dim`` is the number of logits,
            or twice the action dimension (mean and log standard deviation).
        continuous_loss: ``"mse"`` or ``"gaussian"`` (ignored for discrete actions).
    """

    # Box actions only: the affine map to [-1, 1] and the scaled bounds (registered buffers).
    action_center: torch.Tensor
    action_scale: torch.Tensor
    action_low: torch.Tensor
    action_high: torch.Tensor

    def __init__(self, in_dim: int, action_space: gym.Space, body: BodyFactory,
                 continuous_loss: str = "mse") -> None:
        super().__init__()
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        if continuous_loss not in ("mse", "gaussian"):
            raise ValueError("continuous_loss must be 'mse' or 'gaussian', "
                             f"got {continuous_loss!r}")
        self.continuous_loss = continuous_loss
        if isinstance(action_space, gym.spaces.Discrete):
            self.n_actions = int(action_space.n)
            self.start = int(action_space.start)
            self.action_dim = 1
            out_dim = self.n_actions
        else:
            if not isinstance(action_space, gym.spaces.Box):
                raise TypeError(f"actions must be Discrete or Box, got {action_space}")
            self.action_shape = tuple(action_space.shape)
            self.action_dim = int(np.prod(self.action_shape))
            low = np.asarray(action_space.low, np.float64).reshape(-1)
            high = np.asarray(action_space.high, np.float64).reshape(-1)
            bounded = np.isfinite(low) & np.isfinite(high)
            low, high = np.where(bounded, low, -1.0), np.where(bounded, high, 1.0)
            center = np.where(bounded, (low + high) / 2, 0.0)
            scale = np.where(bounded, (high - low) / 2, 1.0)
            self.register_buffer("action_center", torch.tensor(center, dtype=torch.float32))
            self.register_buffer("action_scale", torch.tensor(scale, dtype=torch.float32))
            self.register_buffer("action_low", torch.tensor(np.where(bounded, -1.0, -np.inf),
                                                            dtype=torch.float32))
            self.register_buffer("action_high", torch.tensor(np.where(bounded, 1.0, np.inf),
                                                             dtype=torch.float32))
            out_dim = 2 * self.action_dim
        self.normaliser = Normaliser(in_dim)
        self.body = body(in_dim, out_dim)

    # ------------------------------------------------------------------ targets
    def encode(self, actions: torch.Tensor) -> torch.Tensor:
        """Environment actions -> training targets.

        Class indices ``0..n-1``, or actions scaled to ``[-1, 1]`` by the bounds and clipped.
        """
        if self.discrete:
            return actions.reshape(-1).long() - self.start
        scaled = (actions.reshape(-1, self.action_dim).float() - self.action_center) \
            / self.action_scale
        return torch.maximum(torch.minimum(scaled, self.action_high), self.action_low)

    def decode(self, targets: torch.Tensor) -> torch.Tensor:
        """Training targets -> environment actions (inverse of :meth:`encode`)."""
        if self.discrete:
            return targets + self.start
        return (targets * self.action_scale + self.action_center).reshape(-1, *self.action_shape)

    # ------------------------------------------------------------------ outputs
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw head output: logits, or ``[mean, log_std]`` in target units."""
        return self.body(self.normaliser(x))

    def _gaussian(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = out.split(self.action_dim, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def loss(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Training loss of predicting encoded ``target`` from ``x`` (mean over the batch)."""
        out = self(x)
        if self.discrete:
            return F.cross_entropy(out, target)
        mean, log_std = self._gaussian(out)
        if self.continuous_loss == "mse":
            return F.mse_loss(mean, target)
        # Gaussian NLL without its constant. Kept by hand: F.gaussian_nll_loss (variance
        # exp(2 log_std), mean over every element) and Normal(mean, std).log_prob (adds
        # log sqrt(2 pi)) give the same optimum but other float rounding (and another reported
        # loss), which changes the Gaussian cells (IUPE on Pendulum/MountainCarContinuous).
        nll = 0.5 * ((target - mean) * torch.exp(-log_std)) ** 2 + log_std
        return nll.sum(-1).mean()

    def mode(self, x: torch.Tensor) -> torch.Tensor:
        """Most likely target: argmax class, or the mean clipped to the scaled bounds."""
        out = self(x)
        if self.discrete:
            return out.argmax(-1)
        mean, _ = self._gaussian(out)
        return torch.maximum(torch.minimum(mean, self.action_high), self.action_low)

    def sample(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One target per row from the predicted distribution.

        Discrete: a categorical draw per row from ``softmax(logits)`` (one uniform number per
        row, not per class). Continuous: ``mean + std * N(0, 1)``, clipped to the bounds (a
        model trained with ``"mse"`` has no trained spread and returns its mean).
        """
        out = self(x)
        # Kept by hand: torch.distributions' Categorical.sample and Normal.sample take no
        # generator (they draw from the global RNG, which every seed rule here avoids), and
        # torch.multinomial(probs, 1, generator=...) draws other classes from the same seed,
        # so either would change the IUPE cells.
        if self.discrete:
            cdf = torch.softmax(out.double(), -1).cumsum(-1)
            u = torch.rand((out.shape[0], 1), generator=generator, dtype=torch.float64)
            return (cdf < u).sum(-1).clamp_max(self.n_actions - 1)
        mean, log_std = self._gaussian(out)
        if self.continuous_loss == "mse":  # no trained spread: the mean is the only estimate
            return torch.maximum(torch.minimum(mean, self.action_high), self.action_low)
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
        value = mean + torch.exp(log_std) * noise
        return torch.maximum(torch.minimum(value, self.action_high), self.action_low)


INFERENCE_CHUNK = 16384
"""Rows per forward pass when labelling or scoring a whole dataset."""


@torch.inference_mode()
def most_likely(model: ActionModel, inputs: torch.Tensor) -> torch.Tensor:
    """``model.mode`` of every row of ``inputs`` (in chunks of :data:`INFERENCE_CHUNK`)."""
    out = [model.mode(x) for x in inputs.split(INFERENCE_CHUNK)]
    return torch.cat(out) if out else torch.zeros(0)


@torch.inference_mode()
def sampled(model: ActionModel, inputs: torch.Tensor,
            generator: torch.Generator) -> torch.Tensor:
    """One ``model.sample`` per row of ``inputs`` (in chunks), drawn from ``generator``."""
    out = [model.sample(x, generator) for x in inputs.split(INFERENCE_CHUNK)]
    return torch.cat(out) if out else torch.zeros(0)
