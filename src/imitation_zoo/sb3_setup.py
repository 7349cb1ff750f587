"""Build a stable-baselines3 / sb3-contrib training run from a recipe, and its resumable state.

The recipe's hyperparameters follow the rl-baselines3-zoo conventions (``lin_<x>`` schedules,
``policy_kwargs.activation_fn`` names, ``action_noise_std``). sb3-contrib's ARS (the only
resumable SB3 algorithm) keeps its whole training state in a parameter vector and the
``VecNormalize`` statistics, saved here as safetensors + JSON (no pickle).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from imitation_zoo.checkpoint import STATE_TENSORS, write_state
from imitation_zoo.recipe import Recipe

ALGORITHMS = {
    "A2C": "stable_baselines3",
    "DDPG": "stable_baselines3",
    "DQN": "stable_baselines3",
    "PPO": "stable_baselines3",
    "SAC": "stable_baselines3",
    "TD3": "stable_baselines3",
    "ARS": "sb3_contrib",
    "QRDQN": "sb3_contrib",
    "TQC": "sb3_contrib",
    "TRPO": "sb3_contrib",
}
"""The module of every stable-baselines3 / sb3-contrib algorithm a recipe may name."""


def algorithm_class(name: str) -> Any:
    """Return the stable-baselines3 / sb3-contrib class called ``name``."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; expected one of {sorted(ALGORITHMS)}")
    return getattr(importlib.import_module(ALGORITHMS[name]), name)


def build_model(recipe: Recipe, env: Any) -> Any:
    """The recipe's stable-baselines3 model on ``env``, on the CPU, with a silent logger.

    SB3's default logger (``verbose=0``, no tensorboard) creates an empty ``SB3-<date>`` folder
    in the temporary directory at every ``learn``; an explicit logger with no output writes
    nothing and records the same values.
    """
    from stable_baselines3.common.logger import Logger

    model = algorithm_class(recipe.algo)(recipe.policy, env, seed=recipe.seed, device="cpu",
                                         verbose=0,
                                         **algorithm_kwargs(recipe, env.action_space))
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def exact_optimizers(model: Any) -> None:
    """Replace every ``torch.optim.Adam`` of a freshly built SB3 ``model`` by :class:`exact.Adam`.

    Same parameters and hyperparameters (SB3's PPO ``eps=1e-5`` included), a correctly rounded
    square root: with the cells' environment (:mod:`imitation_datasets.benchmark.reproducible`)
    training gives the same bits on every CPU. Looks at the model, its policy and the policy's
    sub-modules (SAC's actor, critic and entropy-coefficient optimisers, PPO's and DQN's one).

    Raises:
        ValueError: an optimiser has taken a step already or has more than its defaults.
    """
    import torch

    from imitation_datasets.methods import exact

    owners = [model, *model.policy.modules()]
    for owner in owners:
        for name, value in list(vars(owner).items()):
            if type(value) is not torch.optim.Adam:
                continue
            defaults = value.defaults
            if value.state or defaults["amsgrad"] or defaults["maximize"]:
                raise ValueError(f"{type(owner).__name__}.{name}: not a fresh plain Adam")
            groups = [{"params": group["params"]} for group in value.param_groups]
            setattr(owner, name, exact.Adam(groups, lr=defaults["lr"], betas=defaults["betas"],
                                            eps=defaults["eps"],
                                            weight_decay=defaults["weight_decay"]))


def schedule_value(value: Any) -> Any:
    """Decode rl-zoo conventions: ``"lin_<x>"`` is a linear schedule from ``x`` to 0."""
    if isinstance(value, str) and value.startswith("lin_"):
        from stable_baselines3.common.utils import LinearSchedule

        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    return value


def algorithm_kwargs(recipe: Recipe, action_space: Any = None) -> dict[str, Any]:
    """Keyword arguments of the algorithm built from the recipe's hyperparameters.

    ``action_noise_std: x`` (TD3/DDPG) becomes Gaussian action noise of standard deviation
    ``x`` on every action dimension (rl-baselines3-zoo's ``noise_type: normal``); it needs the
    training env's ``action_space``.
    """
    from torch import nn

    kwargs: dict[str, Any] = {}
    for name, value in recipe.hyperparameters.items():
        if name == "action_noise_std":
            from stable_baselines3.common.noise import NormalActionNoise

            if action_space is None:
                raise ValueError("action_noise_std needs the training env's action space")
            dim = int(np.prod(action_space.shape))
            kwargs["action_noise"] = NormalActionNoise(np.zeros(dim), float(value) * np.ones(dim))
        elif name == "policy_kwargs":
            policy_kwargs = dict(value)
            activation = policy_kwargs.get("activation_fn")
            if activation is not None:
                activations = {"tanh": nn.Tanh, "relu": nn.ReLU}
                if activation not in activations:
                    raise ValueError(f"activation_fn must be one of {sorted(activations)}")
                policy_kwargs["activation_fn"] = activations[activation]
            kwargs[name] = policy_kwargs
        elif name == "train_freq" and isinstance(value, list):
            kwargs[name] = (int(value[0]), str(value[1]))
        else:
            kwargs[name] = schedule_value(value)
    return kwargs


def make_training_env(recipe: Recipe) -> tuple[Any, Any]:
    """Build the training ``VecEnv`` and its ``VecNormalize`` wrapper (or ``None``)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    venv = make_vec_env(recipe.env_id, n_envs=recipe.n_envs, seed=recipe.seed,
                        env_kwargs=dict(recipe.env_kwargs), vec_env_cls=DummyVecEnv)
    if recipe.normalize is None:
        return venv, None
    options = dict(recipe.normalize)
    options.setdefault("gamma", float(recipe.hyperparameters.get("gamma", 0.99)))
    vecnorm = VecNormalize(venv, **options)
    return vecnorm, vecnorm


def save_ars_state(model: Any, vecnorm: Any, folder: Path, info: dict[str, Any]) -> None:
    """Write an ARS model's training state as ``state.safetensors`` + ``state.json`` (atomic)."""
    tensors = {"weights": model.weights.detach().cpu().numpy().astype(np.float32)}
    if vecnorm is not None:
        rms = vecnorm.obs_rms
        tensors["obs_mean"] = np.asarray(rms.mean, dtype=np.float64).reshape(-1)
        tensors["obs_var"] = np.asarray(rms.var, dtype=np.float64).reshape(-1)
        tensors["obs_count"] = np.array([float(rms.count)], dtype=np.float64)
    write_state(folder, tensors, info)


def load_ars_state(model: Any, vecnorm: Any, folder: Path) -> None:
    """Restore what :func:`save_ars_state` wrote into a freshly built ARS model (no pickle)."""
    import torch
    from safetensors.numpy import load_file

    tensors = load_file(str(folder / STATE_TENSORS))
    weights = torch.as_tensor(tensors["weights"], dtype=model.weights.dtype)
    if weights.shape != model.weights.shape:
        raise RuntimeError(f"{folder}: state has {weights.numel()} parameters, the model "
                           f"{model.weights.numel()}")
    model.weights = weights.clone()
    model.policy.load_from_vector(weights.cpu())
    if vecnorm is not None:
        if "obs_mean" not in tensors:
            raise RuntimeError(f"{folder}: state has no observation statistics")
        vecnorm.obs_rms.mean = tensors["obs_mean"].astype(np.float64)
        vecnorm.obs_rms.var = tensors["obs_var"].astype(np.float64)
        vecnorm.obs_rms.count = float(tensors["obs_count"][0])
