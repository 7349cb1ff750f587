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
kernel's block (OpenBLAS's Haswell kernels, measured: up to 2.7e-6 apart). Expert actions go into
datasets that must be byte-identical on any machine, so the forward pass never calls BLAS or any
other routine whose rounding is implementation-defined. It uses only IEEE-754 element-wise
operations (``+ - * /``, ``sqrt``, ``clip``, ``max``, ``ldexp``, ``rint``), which are correctly
rounded whatever the SIMD width, in an order fixed by the layer sizes alone:

* a linear layer forms the products ``x[b, k] * W[k, j]`` element-wise and sums them over ``k``
  with a fixed pairwise tree (:func:`fixed_order_matmul`);
* ``tanh`` is computed in float64 by a fixed polynomial (:func:`fixed_tanh`), not by the
  platform's ``tanh`` (NumPy dispatches it to different SIMD or libm code on different CPUs),
  then rounded once to float32.

A row's action therefore depends only on that row's observation and the weights: not on the batch
size, the row's position, the CPU, the BLAS or the thread count.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MAX_CHUNK_ELEMENTS = 1 << 20
"""Rows are processed in chunks whose ``rows * in * out`` products stay below this (memory only:
rows are independent, so chunking does not change any result)."""

# fdlibm's split of ln 2: LN2_HI has trailing zero bits, so k * LN2_HI is exact for |k| < 2**11.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
# 1/n! for n = 2..15: expm1(r) = r * (1 + r/2! + r^2/3! + ...), |r| <= ln(2)/2, error < 1e-19.
_EXPM1_COEFFS = tuple(1.0 / math.factorial(n) for n in range(15, 1, -1))


def fixed_order_matmul(x: np.ndarray, weight_t: np.ndarray) -> np.ndarray:
    """``x @ weight_t`` (float32, ``(B, in) @ (in, out)``) summed in a fixed order.

    The ``in`` products of each output are formed element-wise and folded pairwise
    (``p[k] += p[k + h]`` with ``h = ceil(n / 2)``, repeated until one term is left): the order
    depends only on ``in``, so each row's bytes are independent of the batch and the machine.
    """
    rows, n = x.shape
    out = np.empty((rows, weight_t.shape[1]), dtype=np.float32)
    step = max(1, MAX_CHUNK_ELEMENTS // max(1, n * weight_t.shape[1]))
    for start in range(0, rows, step):
        terms = np.multiply(x[start : start + step, :, None], weight_t[None, :, :],
                            dtype=np.float32)
        width = n
        while width > 1:
            half = (width + 1) // 2
            np.add(terms[:, : width - half], terms[:, half:width], out=terms[:, : width - half])
            width = half
        out[start : start + step] = terms[:, 0]
    return out


def fixed_tanh(x: np.ndarray) -> np.ndarray:
    """``tanh`` of a float32 array, computed from IEEE element-wise operations only.

    ``tanh(|x|) = -m / (m + 2)`` with ``m = expm1(-2|x|)``; ``expm1`` uses the Cody-Waite
    reduction ``z = k ln 2 + r`` and a degree-15 Taylor polynomial in Horner form, all in
    float64 (relative error about 1e-16), then one rounding to float32. Unlike ``np.tanh`` the
    result is the same on every CPU and NumPy build.
    """
    x64 = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x64)
    z = -2.0 * np.minimum(np.abs(np.where(nan, 0.0, x64)), 40.0)  # tanh(40) == 1 in float64
    k = np.rint(z * _INV_LN2)
    r = (z - k * _LN2_HI) - k * _LN2_LO
    poly = np.full_like(r, _EXPM1_COEFFS[0])
    for coeff in _EXPM1_COEFFS[1:]:
        poly = poly * r + coeff
    poly = poly * r + 1.0
    k_int = k.astype(np.int64)
    m = np.ldexp(poly * r, k_int) + (np.ldexp(1.0, k_int) - 1.0)
    result = np.copysign(-m / (m + 2.0), x64)
    return np.where(nan, np.nan, result).astype(np.float32)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, np.float32(0.0))


ACTIVATIONS = {"tanh": fixed_tanh, "relu": _relu}
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
                self._program.append(("linear", (np.ascontiguousarray(weight.T), bias)))
                in_dim = weight.shape[0]
            elif op in ACTIVATIONS:
                self._program.append((op, ACTIVATIONS[op]))
            else:
                raise NetworkSpecError(f"layer {index}: unknown op {op!r}")
        linear = [arg for op, arg in self._program if op == "linear"]
        if not linear:
            raise NetworkSpecError("a network needs at least one linear layer")
        self.input_dim = linear[0][0].shape[0]
        self.output_dim = linear[-1][0].shape[1]

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
        for op, arg in self._program:
            if op == "linear":
                weight_t, bias = arg
                x = fixed_order_matmul(x, weight_t)
                x += bias
            else:
                x = arg(x)
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
            squashed = fixed_tanh(out)
            return (
                self.action_low + (squashed + np.float32(1.0)) * np.float32(0.5)
                * (self.action_high - self.action_low)
            ).astype(np.float32)
        return out
