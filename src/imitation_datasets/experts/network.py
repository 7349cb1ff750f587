"""NumPy inference for exported expert policies (no torch, no stable-baselines3, no pickle).

An exported policy is a small feed-forward program described by JSON and a safetensors file:

* ``obs_norm`` (optional): ``clip((obs - obs_mean) / sqrt(obs_var + epsilon), -clip, clip)``,
  the VecNormalize / ARS convention;
* ``layers``: a list of ``{"op": "linear", "name": N}`` (tensors ``N.weight`` shaped
  ``(out, in)`` as in torch, optional ``N.bias``) and activations ``{"op": "tanh" | "relu"}``;
* ``head``: how the last layer becomes an action: ``argmax`` (discrete logits or Q-values),
  ``clip`` (Gaussian mean clipped to the action bounds, SB3's PPO/A2C convention),
  ``tanh_scale`` (squashed mean rescaled to the bounds, SAC/TD3 convention) or ``identity``.

Batch invariance
----------------
BLAS kernels pick different code paths for different batch sizes, so the action for one
observation could change in its last bits depending on how many other observations share the
batch. Datasets must not depend on worker count, so every forward pass runs on blocks of exactly
``BLOCK`` rows (padding the last block); a row's result then depends only on the row itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

BLOCK = 16
"""Fixed number of rows of every matrix product (see the module docstring)."""

ACTIVATIONS = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0, dtype=x.dtype)}
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
    """A feed-forward policy evaluated with NumPy on fixed-size blocks.

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

    def _forward_block(self, block: np.ndarray) -> np.ndarray:
        x = block
        if self._norm is not None:
            mean, scale, clip = self._norm
            x = np.clip((x - mean) * scale, -clip, clip)
        for op, arg in self._program:
            if op == "linear":
                weight_t, bias = arg
                x = x @ weight_t
                x += bias
            else:
                x = arg(x)
        return x

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Map a batch of observations ``(B, obs_dim)`` to a batch of actions."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim != 2 or obs.shape[1] != self.input_dim:
            raise ValueError(
                f"expected observations shaped (batch, {self.input_dim}), got {obs.shape}"
            )
        n = obs.shape[0]
        padded = -(-n // BLOCK) * BLOCK
        if padded != n:
            obs = np.concatenate([obs, np.zeros((padded - n, self.input_dim), np.float32)])
        out = np.concatenate(
            [self._forward_block(obs[i : i + BLOCK]) for i in range(0, padded, BLOCK)]
        )[:n]
        if self.head == "argmax":
            return out.argmax(axis=1).astype(np.int64)
        if self.head == "clip":
            return np.clip(out, self.action_low, self.action_high)
        if self.head == "tanh_scale":
            squashed = np.tanh(out)
            return (
                self.action_low + (squashed + np.float32(1.0)) * np.float32(0.5)
                * (self.action_high - self.action_low)
            ).astype(np.float32)
        return out
