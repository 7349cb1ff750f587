"""NumPy inference for exported expert policies (no torch, no stable-baselines3, no pickle).

An exported policy is a small feed-forward program described by JSON and a safetensors file:

* ``obs_norm`` (optional): ``clip((obs - obs_mean) / sqrt(obs_var + epsilon), -clip, clip)``,
  the VecNormalize / ARS convention;
* ``layers``: a list of ``{"op": "linear", "name": N}`` (tensors ``N.weight`` shaped
  ``(out, in)`` as in torch, optional ``N.bias``) and activations ``{"op": "tanh" | "relu"}``;
* ``head``: how the last layer becomes an action: ``argmax`` (discrete logits or Q-values),
  ``clip`` (Gaussian mean clipped to the action bounds, SB3's PPO/A2C convention),
  ``tanh_scale`` (squashed mean rescaled to the bounds, SAC/TD3 convention) or ``identity``.

Exact, machine-independent inference
------------------------------------
A BLAS matrix product sums its terms in an order chosen by the kernel, and that order depends on
the CPU, the BLAS build, the thread count, the batch size and even a row's position inside the
kernel's block (OpenBLAS's Haswell kernels, measured: up to 2.7e-6 apart); NumPy's float32
``tanh`` runs different SIMD code on different CPUs. Expert actions go into datasets that must be
byte-identical on any machine, so every layer returns the *correctly rounded* float32 of the exact
mathematical result (the nearest float32, ties to even), which is one number whatever computes it:

* a linear layer is :func:`exact_linear`: float64 BLAS with a rigorous error bound, and exact
  rational arithmetic for the rare elements the bound cannot decide;
* ``tanh`` is :func:`exact_tanh`: float64 ``tanh`` with a generous error bound, and 60-digit
  decimal arithmetic for the undecided elements;
* ``relu``, ``clip``, observation normalisation and ``argmax`` are single IEEE element-wise
  operations, correctly rounded by definition.

A row's action therefore depends only on that row's observation and the weights: not on the batch
size, the row's position, the CPU, the BLAS, the NumPy build or the thread count. The only
assumptions are IEEE-754 float64 arithmetic in its default mode (no flush-to-zero) and a float64
``tanh`` within :data:`TANH_REL_ERROR` of the truth.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

_U = 2.0**-53
"""Unit round-off of float64."""

TANH_REL_ERROR = 2.0**-40
"""Bound assumed on the relative error of the platform's float64 ``tanh`` (glibc, musl, macOS
libm and NumPy's SIMD paths are all within a few units in the last place, about 2**-51)."""


def _round_exact_to_float32(value: Fraction) -> np.float32:
    """The float32 nearest to an exact rational (ties to even), as IEEE rounding defines it."""
    guess = np.float32(float(value))
    if not np.isfinite(guess):
        return guess
    best = None
    for candidate in (np.nextafter(guess, np.float32(-np.inf)), guess,
                      np.nextafter(guess, np.float32(np.inf))):
        if not np.isfinite(candidate):
            continue
        distance = abs(Fraction(float(candidate)) - value)
        even = int(candidate.view(np.uint32)) % 2 == 0
        key = (distance, not even)
        if best is None or key < best[0]:
            best = (key, candidate)
    assert best is not None  # guess itself is finite
    return best[1]


def _certain_float32(value: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round float64 ``value`` to float32 where every number within ``error`` rounds alike.

    Returns the float32 array and a mask of the elements that could not be decided: a float32
    rounding boundary (or the sign of zero) within ``error`` of ``value``, or a NaN anywhere.
    Callers make ``error`` exceed the float64 rounding of ``value -/+ error`` itself (at least
    ``2**-51`` of the magnitudes involved), so computing the two ends cannot hide a boundary.
    """
    low = (value - error).astype(np.float32)
    high = (value + error).astype(np.float32)
    undecided = low.view(np.uint32) != high.view(np.uint32)
    if not math.isfinite(float(error.sum())):  # NaN or inf involved: let the exact path decide
        undecided |= ~np.isfinite(error) | np.isnan(value)
    return low, undecided


class ExactLinear:
    """``x @ weight_t + bias`` correctly rounded to float32: the same bytes on every machine.

    Each result is the float32 nearest to the *exact* real value of ``sum_k x[k] w[k] + b``, a
    number that does not depend on summation order, so not on the BLAS, CPU, thread count, batch
    size or a row's position. Fast path: float64 BLAS, where every product of two float32 is
    exact and any summation order is within ``(n + 1) u sum_k |x[k] w[k]|`` of the exact sum
    (the classical bound, ``u = 2**-53``); where no float32 rounding boundary lies within twice
    that bound, rounding the float64 result gives the exact answer. The rare remaining elements
    (about 2 in 10^5 on states the experts visit: ``benchmarks/expert_inference.py``) are
    summed exactly in rational arithmetic.

    Args:
        weight_t: float32 weights shaped ``(in, out)``.
        bias: float32 bias shaped ``(out,)``.
    """

    def __init__(self, weight_t: np.ndarray, bias: np.ndarray) -> None:
        self.weight_t = np.ascontiguousarray(weight_t, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self._w64 = self.weight_t.astype(np.float64)
        self._abs_w64 = np.abs(self._w64)
        self._b64 = self.bias.astype(np.float64)
        self._abs_b64 = np.abs(self._b64)
        # Twice the summation bound (n + 1) u, plus 4 u for rounding value -/+ bound itself.
        self._factor = (2.0 * (self.weight_t.shape[0] + 1) + 4.0) * _U

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Apply the layer to float32 ``x`` shaped ``(B, in)``."""
        x64 = x.astype(np.float64)
        value = x64 @ self._w64
        value += self._b64
        bound = np.abs(x64) @ self._abs_w64
        bound += self._abs_b64
        bound *= self._factor
        out, undecided = _certain_float32(value, bound)
        for row, col in zip(*np.nonzero(undecided)):
            out[row, col] = _exact_dot(x[row], self.weight_t[:, col], self.bias[col])
        return out


def exact_linear(x: np.ndarray, weight_t: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """One-off :class:`ExactLinear` (networks keep the layer to reuse its float64 copies)."""
    return ExactLinear(weight_t, bias)(np.asarray(x, dtype=np.float32))


def _exact_dot(x: np.ndarray, w: np.ndarray, b: np.float32) -> np.float32:
    terms = [float(b), *(float(xi) * float(wi) for xi, wi in zip(x, w))]  # exact in float64
    if all(math.isfinite(t) for t in terms):
        return _round_exact_to_float32(sum((Fraction(t) for t in terms), Fraction(0)))
    # IEEE semantics, independent of order: NaN, or +inf and -inf together, give NaN.
    signs = {math.copysign(1.0, t) for t in terms if math.isinf(t)}
    if any(math.isnan(t) for t in terms) or len(signs) == 2:
        return np.float32(np.nan)
    return np.float32(signs.pop() * math.inf)


def exact_tanh(x: np.ndarray) -> np.ndarray:
    """``tanh`` correctly rounded to float32: the same bytes on every machine.

    Fast path: the platform's float64 ``tanh`` (assumed within :data:`TANH_REL_ERROR`, four
    orders of magnitude looser than any libm) rounded to float32 where no rounding boundary lies
    within that error; the rest is evaluated with 60-digit decimal arithmetic.
    """
    x64 = np.asarray(x, dtype=np.float64)
    value = np.tanh(x64)
    error = np.abs(value)
    error *= TANH_REL_ERROR
    out, undecided = _certain_float32(value, error)
    for index in zip(*np.nonzero(undecided)):
        out[index] = _decimal_tanh(float(x64[index]))
    return out


def _decimal_tanh(x: float) -> np.float32:
    if math.isnan(x):
        return np.float32(np.nan)
    if abs(x) > 20.0:  # |tanh| rounds to 1 in float32 far before this
        return np.float32(math.copysign(1.0, x))
    if x == 0.0:
        return np.float32(x)
    with localcontext() as context:
        context.prec = 60
        e2x = (Decimal(x) * 2).exp()
        value = (e2x - 1) / (e2x + 1)
    return _round_exact_to_float32(Fraction(value))


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, np.float32(0.0))


ACTIVATIONS = {"tanh": exact_tanh, "relu": _relu}
HEADS = ("argmax", "clip", "tanh_scale", "identity")


class NetworkSpecError(ValueError):
    """An exported network description or its tensors are inconsistent."""


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ExpertNetwork:
    """A feed-forward policy evaluated with NumPy, exactly and batch-invariantly.

    Args:
        spec: the ``network`` section of an expert card (``layers``, ``head``, ``obs_norm``).
        tensors: named float arrays (as stored in the safetensors file).
        action_low: lower action bounds (needed by the ``clip`` and ``tanh_scale`` heads).
        action_high: upper action bounds.
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        tensors: Mapping[str, np.ndarray],
        action_low: np.ndarray | None = None,
        action_high: np.ndarray | None = None,
    ) -> None:
        self.spec = dict(spec)
        self._program: list[tuple[str, Any]] = []
        in_dim: int | None = None
        for index, layer in enumerate(spec.get("layers", [])):
            op = layer.get("op")
            if op == "linear":
                name = layer.get("name")
                weight_key = f"{name}.weight"
                if weight_key not in tensors:
                    raise NetworkSpecError(f"layer {index}: tensor {weight_key!r} is missing")
                weight = np.asarray(tensors[weight_key], dtype=np.float32)
                if weight.ndim != 2:
                    raise NetworkSpecError(f"layer {index}: {weight_key} must be 2-D")
                if in_dim is not None and weight.shape[1] != in_dim:
                    raise NetworkSpecError(
                        f"layer {index}: expects {weight.shape[1]} inputs, previous gives {in_dim}"
                    )
                bias = tensors.get(f"{name}.bias")
                bias = (
                    np.zeros(weight.shape[0], np.float32)
                    if bias is None
                    else np.asarray(bias, dtype=np.float32).reshape(weight.shape[0])
                )
                self._program.append(("linear", ExactLinear(weight.T, bias)))
                in_dim = weight.shape[0]
            elif op in ACTIVATIONS:
                self._program.append((op, ACTIVATIONS[op]))
            else:
                raise NetworkSpecError(f"layer {index}: unknown op {op!r}")
        linear = [arg for op, arg in self._program if op == "linear"]
        if not linear:
            raise NetworkSpecError("a network needs at least one linear layer")
        self.input_dim = linear[0].weight_t.shape[0]
        self.output_dim = linear[-1].weight_t.shape[1]

        self.head = spec.get("head", {}).get("op", "identity")
        if self.head not in HEADS:
            raise NetworkSpecError(f"unknown head {self.head!r}; expected one of {HEADS}")
        if self.head in ("clip", "tanh_scale"):
            if action_low is None or action_high is None:
                raise NetworkSpecError(f"head {self.head!r} needs the action bounds")
            self.action_low = np.asarray(action_low, dtype=np.float32)
            self.action_high = np.asarray(action_high, dtype=np.float32)

        norm = spec.get("obs_norm")
        self._norm: tuple[np.ndarray, np.ndarray, float] | None = None
        if norm:
            try:
                mean = np.asarray(tensors["obs_mean"], dtype=np.float32)
                var = np.asarray(tensors["obs_var"], dtype=np.float32)
            except KeyError as exc:
                raise NetworkSpecError(f"obs_norm needs tensor {exc.args[0]!r}") from None
            scale = (1.0 / np.sqrt(var + np.float32(norm.get("epsilon", 1e-8)))).astype(np.float32)
            self._norm = (mean, scale, float(norm.get("clip", np.inf)))

    @property
    def discrete(self) -> bool:
        """Whether the network outputs a discrete action index."""
        return self.head == "argmax"

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self._norm is not None:
            mean, scale, clip = self._norm
            x = np.clip((x - mean) * scale, -clip, clip)
        for _, layer in self._program:
            x = layer(x)
        return x

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Map a batch of observations ``(B, obs_dim)`` to a batch of actions.

        Row ``i`` of the result depends only on ``obs[i]`` (see the module docstring).
        """
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != self.input_dim:
            raise ValueError(
                f"expected observations shaped (batch, {self.input_dim}), got {obs.shape}"
            )
        out = self._forward(obs)
        if self.head == "argmax":
            return out.argmax(axis=1).astype(np.int64)
        if self.head == "clip":
            return np.clip(out, self.action_low, self.action_high)
        if self.head == "tanh_scale":
            squashed = exact_tanh(out)
            return (
                self.action_low + (squashed + np.float32(1.0)) * np.float32(0.5)
                * (self.action_high - self.action_low)
            ).astype(np.float32)
        return out
