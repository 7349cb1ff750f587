"""Export a trained stable-baselines3 / sb3-contrib model to a NumPy :class:`ExpertNetwork`.

The export walks the torch modules that compute the deterministic action and writes them as the
feed-forward program understood by :mod:`imitation_datasets.experts.network`:

* PPO / A2C / TRPO: features -> ``mlp_extractor.policy_net`` -> ``action_net``; discrete actions
  take the ``argmax`` of the logits, Box actions the Gaussian mean clipped to the bounds (``clip``)
  or, with ``squash_output``, ``tanh_scale``;
* DQN: ``q_net`` -> ``argmax``; QR-DQN: ``quantile_net`` whose last layer is averaged over the
  quantiles (the mean of linear maps is the linear map of the mean weights), then ``argmax``;
* SAC / TQC: ``actor.latent_pi`` -> ``actor.mu`` -> ``tanh_scale``; with gSDE the mean is first
  clipped by ``Hardtanh(-c, c)``, written exactly as ``-c + relu(x + c) - relu(x - c)``;
* TD3 / DDPG: ``actor.mu`` without its final ``Tanh`` -> ``tanh_scale``;
* ARS (linear or MLP): ``action_net``; discrete -> ``argmax``; Box -> ``tanh_scale`` when the
  policy squashes its output, otherwise ``clip``.

Observation normalisation from a ``VecNormalize`` wrapper becomes the network's ``obs_norm``.
Every export is checked against ``model.predict(deterministic=True)`` on random observations
and raises :class:`ExportMismatchError` when they disagree.

This module needs torch and stable-baselines3; the exported network needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.experts.network import ExpertNetwork
from imitation_zoo.checkpoint import save_tensors


class ExportError(ImitationDatasetsError, ValueError):
    """The model (or one of its modules) has no exported equivalent."""


class ExportMismatchError(ImitationDatasetsError, AssertionError):
    """The exported network does not reproduce the model's deterministic actions."""


@dataclass
class ExportedPolicy:
    """An exported policy: the card's ``network`` spec, its tensors and the action bounds."""

    spec: dict[str, Any]
    tensors: dict[str, np.ndarray]
    action_low: np.ndarray | None = None
    action_high: np.ndarray | None = None
    check: dict[str, Any] = field(default_factory=dict)

    def network(self) -> ExpertNetwork:
        """Build the NumPy network."""
        return ExpertNetwork(self.spec, self.tensors, self.action_low, self.action_high)

    def save(self, path: str | Path) -> str:
        """Write the tensors to a safetensors file atomically (float32); return its sha256."""
        return save_tensors(Path(path), {k: np.asarray(v, dtype=np.float32)
                                         for k, v in self.tensors.items()})


# ------------------------------------------------------------------------------------------------
# torch modules -> layer list


def _to_numpy(tensor: Any) -> np.ndarray:
    return tensor.detach().cpu().double().numpy()


def _flatten_modules(module: Any) -> list[Any]:
    """Return the leaf modules of nested ``nn.Sequential`` containers, in order."""
    from torch import nn

    if isinstance(module, nn.Sequential):
        leaves: list[Any] = []
        for child in module:
            leaves.extend(_flatten_modules(child))
        return leaves
    return [module]


def _layers_from_modules(modules: list[Any]) -> list[tuple[Any, ...]]:
    """Translate leaf modules to ``("linear", W, b)``, ``("tanh",)`` and ``("relu",)`` steps.

    ``W`` is float64 ``(out, in)``, ``b`` float64 or ``None``. ``Flatten`` and ``Identity`` are
    dropped (observations are already flat vectors); ``Hardtanh`` is rewritten with ReLUs.
    """
    from torch import nn

    layers: list[tuple[Any, ...]] = []
    for module in modules:
        if isinstance(module, (nn.Flatten, nn.Identity)):
            continue
        if isinstance(module, nn.Linear):
            bias = None if module.bias is None else _to_numpy(module.bias)
            layers.append(("linear", _to_numpy(module.weight), bias))
        elif isinstance(module, nn.Tanh):
            layers.append(("tanh",))
        elif isinstance(module, nn.ReLU):
            layers.append(("relu",))
        elif isinstance(module, nn.Hardtanh):
            layers.extend(_hardtanh_after(layers, float(module.min_val), float(module.max_val)))
        else:
            raise ExportError(f"cannot export module {type(module).__name__}")
    return layers


def _hardtanh_after(layers: list[tuple[Any, ...]], low: float, high: float
                    ) -> list[tuple[Any, ...]]:
    """Rewrite ``hardtanh(W x + b)`` as ``[I, -I] relu([W; W] x + [b - low; b - high]) + low``.

    Replaces the linear layer at the end of ``layers`` in place and returns the added steps.
    """
    if not layers or layers[-1][0] != "linear":
        raise ExportError("Hardtanh is only supported right after a linear layer")
    _, weight, bias = layers.pop()
    bias = np.zeros(weight.shape[0]) if bias is None else bias
    out = weight.shape[0]
    layers.append(("linear", np.concatenate([weight, weight]),
                   np.concatenate([bias - low, bias - high])))
    eye = np.eye(out)
    return [("relu",), ("linear", np.concatenate([eye, -eye], axis=1), np.full(out, low))]


def _strip_final_tanh(layers: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if not layers or layers[-1][0] != "tanh":
        raise ExportError("expected the actor to end with a Tanh")
    return layers[:-1]


def _fold_quantile_mean(layers: list[tuple[Any, ...]], n_quantiles: int, n_actions: int
                        ) -> list[tuple[Any, ...]]:
    """Average the last layer's ``n_quantiles x n_actions`` outputs over the quantiles."""
    kind, weight, bias = layers[-1]
    if kind != "linear" or weight.shape[0] != n_quantiles * n_actions:
        raise ExportError("the quantile network must end with a linear layer")
    weight = weight.reshape(n_quantiles, n_actions, -1).mean(axis=0)
    bias = None if bias is None else bias.reshape(n_quantiles, n_actions).mean(axis=0)
    return [*layers[:-1], ("linear", weight, bias)]


def _program(layers: list[tuple[Any, ...]], head: str, obs_norm: dict[str, float] | None
             ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Name the linear layers ``fc0, fc1, ...`` and build (spec, tensors)."""
    spec_layers: list[dict[str, str]] = []
    tensors: dict[str, np.ndarray] = {}
    index = 0
    for step in layers:
        if step[0] == "linear":
            name = f"fc{index}"
            index += 1
            spec_layers.append({"op": "linear", "name": name})
            tensors[f"{name}.weight"] = np.asarray(step[1], dtype=np.float32)
            if step[2] is not None:
                tensors[f"{name}.bias"] = np.asarray(step[2], dtype=np.float32)
        else:
            spec_layers.append({"op": step[0]})
    spec = {"obs_norm": obs_norm, "layers": spec_layers, "head": {"op": head}}
    return spec, tensors


# ------------------------------------------------------------------------------------------------
# per-algorithm extraction


def _features(policy: Any, attribute: str = "features_extractor") -> list[Any]:
    extractor = getattr(policy, attribute, None)
    if extractor is None:
        return []
    from stable_baselines3.common.torch_layers import FlattenExtractor

    if not isinstance(extractor, FlattenExtractor):
        raise ExportError(f"only FlattenExtractor features are supported, got {type(extractor)}")
    return [extractor.flatten]


def _box_head(policy: Any) -> str:
    return "tanh_scale" if getattr(policy, "squash_output", False) else "clip"


def _extract(model: Any) -> tuple[list[tuple[Any, ...]], str]:
    """Return (layers, head) computing ``model``'s deterministic action."""
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy = model.policy
    action_space = model.action_space
    discrete = isinstance(action_space, gym.spaces.Discrete)
    if not discrete and not isinstance(action_space, gym.spaces.Box):
        raise ExportError(f"unsupported action space {action_space}")
    name = type(model).__name__

    if isinstance(policy, ActorCriticPolicy):  # PPO, A2C, TRPO
        attribute = "features_extractor" if policy.share_features_extractor else (
            "pi_features_extractor")
        modules = [*_features(policy, attribute), policy.mlp_extractor.policy_net,
                   policy.action_net]
        layers = _layers_from_modules([m for module in modules for m in _flatten_modules(module)])
        return layers, "argmax" if discrete else _box_head(policy)

    if name == "QRDQN":
        net = policy.quantile_net
        modules = [*_features(net), *_flatten_modules(net.quantile_net)]
        layers = _layers_from_modules(modules)
        return _fold_quantile_mean(layers, net.n_quantiles, int(action_space.n)), "argmax"

    if name == "DQN":
        net = policy.q_net
        return _layers_from_modules([*_features(net), *_flatten_modules(net.q_net)]), "argmax"

    if name in ("SAC", "TQC"):
        actor = policy.actor
        modules = [*_features(actor), *_flatten_modules(actor.latent_pi),
                   *_flatten_modules(actor.mu)]
        return _layers_from_modules(modules), "tanh_scale"

    if name in ("TD3", "DDPG"):
        actor = policy.actor
        layers = _layers_from_modules([*_features(actor), *_flatten_modules(actor.mu)])
        return _strip_final_tanh(layers), "tanh_scale"

    if name == "ARS":
        modules = [*_features(policy), *_flatten_modules(policy.action_net)]
        layers = _layers_from_modules(modules)
        if discrete:
            return layers, "argmax"
        if policy.squash_output:
            return _strip_final_tanh(layers), "tanh_scale"
        return layers, "clip"

    raise ExportError(f"no exporter for {name}")


# ------------------------------------------------------------------------------------------------
# verification


def check_observations(observation_space: gym.spaces.Box, n: int, seed: int = 0,
                       vec_normalize: Any = None) -> np.ndarray:
    """Random observations for the export check (float32, shaped ``(n, obs_dim)``).

    Half are drawn per dimension uniformly within finite bounds narrower than 200 (otherwise
    from ``N(0, 2^2)``); the other half around the running statistics of ``vec_normalize``
    (mean +- 3 std), or the same way as the first half without it. All are clipped to the bounds.
    """
    rng = np.random.default_rng(seed)
    low = np.asarray(observation_space.low, dtype=np.float64).reshape(-1)
    high = np.asarray(observation_space.high, dtype=np.float64).reshape(-1)
    dim = low.size
    bounded = np.isfinite(low) & np.isfinite(high) & (high - low < 200.0)
    safe_low = np.where(bounded, low, 0.0)
    safe_high = np.where(bounded, high, 1.0)
    uniform = rng.uniform(safe_low, safe_high, size=(n, dim))
    normal = rng.normal(0.0, 2.0, size=(n, dim))
    obs = np.where(bounded, uniform, normal)
    rms = getattr(vec_normalize, "obs_rms", None)
    if rms is not None and getattr(vec_normalize, "norm_obs", False):
        half = n // 2
        mean = np.asarray(rms.mean, dtype=np.float64).reshape(-1)
        std = np.sqrt(np.asarray(rms.var, dtype=np.float64).reshape(-1))
        obs[half:] = mean + std * rng.uniform(-3.0, 3.0, size=(n - half, dim))
    return np.clip(obs, low, high).astype(np.float32)


def _sb3_actions(model: Any, obs: np.ndarray, vec_normalize: Any) -> np.ndarray:
    model_obs = obs if vec_normalize is None else vec_normalize.normalize_obs(obs)
    actions, _ = model.predict(model_obs, deterministic=True)
    return np.asarray(actions)


def verify_export(exported: ExportedPolicy, model: Any, obs: np.ndarray,
                  vec_normalize: Any = None, atol: float = 1e-4, tie_rtol: float = 1e-5
                  ) -> dict[str, Any]:
    """Compare the exported network with ``model.predict(deterministic=True)`` on ``obs``.

    Continuous actions must agree within ``atol`` (1e-4 by default: float32 sums in another
    order differ by ~1e-5 once a TD3 actor's pre-tanh values reach tens; a wrong layer, scale or
    normalisation differs by orders of magnitude more). Discrete actions must be identical, except
    where the two best logits / Q-values are equal up to float rounding (within ``tie_rtol``
    relative): such exact ties may break either way, and at most 1% of the observations may be
    ties. Any other difference fails.

    Returns:
        A summary (``observations``, ``max_abs_diff`` or ``mismatches``).

    Raises:
        ExportMismatchError: the two disagree.

    """
    expected = _sb3_actions(model, obs, vec_normalize)
    got = exported.network()(obs)
    if exported.spec["head"]["op"] == "argmax":
        expected = expected.reshape(-1).astype(np.int64)
        differ = np.flatnonzero(got != expected)
        if differ.size:
            # Only a float32 rounding tie between the two best outputs may flip the argmax.
            raw_spec = {**exported.spec, "head": {"op": "identity"}}
            raw = ExpertNetwork(raw_spec, exported.tensors)(obs[differ]).astype(np.float64)
            rows = np.arange(differ.size)
            gap = np.abs(raw[rows, got[differ]] - raw[rows, expected[differ]])
            scale = np.maximum(1.0, np.abs(raw).max(axis=1))
            real = int(np.count_nonzero(gap > tie_rtol * scale))
            if real or differ.size > 0.01 * len(obs):
                raise ExportMismatchError(
                    f"exported argmax differs from SB3 on {differ.size}/{len(obs)} observations "
                    f"({real} of them not rounding ties)"
                )
        return {"observations": len(obs), "mismatches": 0, "rounding_ties": int(differ.size)}
    expected = expected.reshape(got.shape).astype(np.float64)
    diff = float(np.max(np.abs(got.astype(np.float64) - expected)))
    if not diff <= atol:
        raise ExportMismatchError(
            f"exported actions differ from SB3 by up to {diff:.3g} (atol {atol})"
        )
    return {"observations": len(obs), "max_abs_diff": diff}


# ------------------------------------------------------------------------------------------------
# public entry point


def export_sb3(
    model: Any,
    vec_normalize: Any = None,
    n_check: int = 1000,
    check_seed: int = 0,
    check_obs: np.ndarray | None = None,
    atol: float = 1e-4,
) -> ExportedPolicy:
    """Convert an SB3 / sb3-contrib model (plus optional ``VecNormalize``) to an exported policy.

    Args:
        model: a PPO, A2C, TRPO, DQN, QRDQN, SAC, TQC, TD3, DDPG or ARS model with flat Box
            observations and Discrete or Box actions.
        vec_normalize: the ``VecNormalize`` wrapper the model was trained in (its current
            observation statistics are exported), or ``None``.
        n_check: number of random observations of the built-in check.
        check_seed: seed of those observations.
        check_obs: extra observations to check (for instance states visited by the policy).
        atol: tolerance of the continuous-action check.

    Returns:
        The exported policy; ``check`` summarises the verification.

    Raises:
        ExportError: an unsupported model, space or module.
        ExportMismatchError: the exported network disagrees with ``model.predict``.

    """
    space = model.observation_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ExportError(f"only flat Box observations are supported, got {space}")
    layers, head = _extract(model)

    obs_norm = None
    tensors_extra: dict[str, np.ndarray] = {}
    if vec_normalize is not None and getattr(vec_normalize, "norm_obs", False):
        obs_norm = {"epsilon": float(vec_normalize.epsilon), "clip": float(vec_normalize.clip_obs)}
        tensors_extra = {
            "obs_mean": np.asarray(vec_normalize.obs_rms.mean, dtype=np.float32).reshape(-1),
            "obs_var": np.asarray(vec_normalize.obs_rms.var, dtype=np.float32).reshape(-1),
        }
    spec, tensors = _program(layers, head, obs_norm)
    tensors.update(tensors_extra)

    low = high = None
    if isinstance(model.action_space, gym.spaces.Box):
        low = np.asarray(model.action_space.low, dtype=np.float32).reshape(-1)
        high = np.asarray(model.action_space.high, dtype=np.float32).reshape(-1)
    exported = ExportedPolicy(spec, tensors, low, high)

    obs = check_observations(model.observation_space, n_check, check_seed, vec_normalize)
    if check_obs is not None and len(check_obs):
        obs = np.concatenate([obs, np.asarray(check_obs, dtype=np.float32).reshape(len(check_obs),
                                                                                    -1)])
    exported.check = verify_export(exported, model, obs, vec_normalize, atol)
    return exported


__all__ = [
    "ExportError",
    "ExportMismatchError",
    "ExportedPolicy",
    "check_observations",
    "export_sb3",
    "verify_export",
]
