"""IL-Datasets 1.0.0's ``Method`` API (``train``, ``save``/``load``, ``predict``, ``_enjoy``).

An adapter: each 1.0.0 class holds one of our methods (:attr:`Method.method`, built from its
YAML configuration for the environment) and trains its networks from the user's
``DataLoader``, epoch by epoch, as 1.0.0 did. What differs from 1.0.0 (no pickle, seeded
evaluation episodes, a JSON metrics log instead of TensorBoard) is listed in ``docs/compat.md``.
"""

from __future__ import annotations

import json
import logging
import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.config import read_yaml, to_mapping, with_overrides
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.dataset.metrics import accuracy, average_episodic_reward, performance
from imitation_datasets.methods import Method as OurMethod
from imitation_datasets.methods import get_method, load_config
from imitation_datasets.utils import GymWrapper

logger = logging.getLogger(__name__)

Metrics = dict[str, Any]
ENJOY_EPISODES = 100
"""Episodes ``_enjoy`` plays (1.0.0's number)."""
ENJOY_SEED_START = 4_000_000_000
"""``_enjoy``'s episode ``k`` is reset with seed ``ENJOY_SEED_START + k`` (1.0.0: unseeded).
Apart from every other seed range of :mod:`imitation_datasets.core.seeding`."""
METRICS_FILE = "metrics.json"
"""The training log ``train`` writes into its ``folder`` (1.0.0: TensorBoard events)."""


def environment_name(environment: Any) -> str:
    """1.0.0's name of an environment: its spec's name without version (``CartPole``)."""
    spec = environment.spec
    return str(getattr(spec, "name", None) or spec.id.split("-v")[0])


def section_of(config_file: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """1.0.0's hyperparameters: the ``name`` section of a YAML file, else its ``Default``.

    Raises:
        KeyError: the file has neither (1.0.0's error).
        ConfigError: the file is not readable YAML.
    """
    data = read_yaml(Path(config_file))
    section = data.get(name, data.get("Default"))
    if not isinstance(section, dict):
        raise KeyError(f"{config_file}: no {name!r} or 'Default' section")
    return {key: _number(value) for key, value in section.items()}


def _number(value: Any) -> Any:
    """``"5e-4"`` (YAML 1.1 reads it as a string) as a float; other values unchanged."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


class Method(ABC):
    """1.0.0's base class of its baselines, over one of our methods.

    Args:
        environment: a Gymnasium environment (Box observations; Discrete or Box actions).
        enjoy_criteria: run :meth:`_enjoy` (and keep the best weights) every this many epochs.
        verbose: log each epoch's metrics.
        config_file: a 1.0.0 hyperparameter YAML (``Default`` and per-environment sections);
            ``None`` uses our configuration of the method for this environment.

    Raises:
        ConfigError: a policy other than ``MlpPolicy``, or values our method refuses.
        KeyError: ``config_file`` has no section for the environment and no ``Default``.
    """

    __version__ = "1.0.0"
    __author__ = "Nathan Gavenski"
    __method_name__ = "Abstract Method"
    method_name: ClassVar[str]
    """Our method's registry name."""
    folder_name: ClassVar[str]
    """1.0.0's folder for checkpoints (``./tmp/<folder>/``) and results."""
    best_name: ClassVar[str] = "best_model"
    """Checkpoint name of the best weights."""
    hyperparameter_names: ClassVar[dict[str, str]] = {"lr": "lr", "hidden_dim": "hidden",
                                                      "batch_size": "batch_size"}
    """1.0.0 hyperparameter -> our config field."""

    def __init__(self, environment: Any, enjoy_criteria: int = 100, verbose: bool = False,
                 config_file: str | os.PathLike[str] | None = None) -> None:
        self.environment = environment
        self.enjoy_criteria = int(enjoy_criteria)
        self.verbose = verbose
        self.environment_name = environment_name(environment)
        self.save_path = f"./tmp/{self.folder_name}/{self.environment_name}/"
        self.device = "cpu"
        self.visual = False
        observation_space, action_space = environment.observation_space, environment.action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        shape = tuple(observation_space.shape)
        self.observation_size: Any = shape[0] if len(shape) == 1 else shape
        self.action_size = int(action_space.n) if self.discrete else int(action_space.shape[0])
        config = load_config(self.method_name, environment.spec.id)
        given = {} if config_file is None else section_of(config_file, self.environment_name)
        policy = given.get("policy", "MlpPolicy")
        if policy != "MlpPolicy":
            raise ConfigError(f"{config_file}: policy {policy!r} is not available (MlpPolicy "
                              "only: the 1.0.0 CNN/attention encoders are not ported)")
        overrides = {ours: given[key] for key, ours in self.hyperparameter_names.items()
                     if key in given}
        config = with_overrides(config, overrides, str(config_file))
        self.hyperparameters: dict[str, Any] = {**to_mapping(config), **given}
        self.method: OurMethod[Any] = get_method(self.method_name)(
            observation_space, action_space, config, seed=0)
        self.policy: nn.Module = self.method.policy
        self.loss_fn: nn.Module = nn.CrossEntropyLoss() if self.discrete else nn.MSELoss()
        self._fitted = False

    # ------------------------------------------------------------------ acting
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The policy network's raw output (logits, or Q-values)."""
        return self.policy(x.reshape(len(x), -1).float())

    def predict(self, obs: np.ndarray | torch.Tensor,
                transforms: Callable[[Any], Any] | None = None) -> np.ndarray:
        """The greedy action for one observation (an array of actions for a batch)."""
        if transforms is not None:
            obs = transforms(obs)
        if isinstance(obs, torch.Tensor):
            obs = obs.detach().cpu().numpy()
        return self.method.predict(np.asarray(obs, dtype=np.float32), deterministic=True)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | None = None, name: str | int | None = None) -> None:
        """Write the weights as our checkpoint folder ``<path>/<name>`` (safetensors + JSON)."""
        folder = Path(self.save_path if path is None else path)
        self.method.save(folder / (self.best_name if name is None else str(name)))

    def load(self, path: str | None = None, name: str | int | None = None) -> Method:
        """Load weights saved by :meth:`save`.

        Raises:
            ValueError: ``path`` does not exist (1.0.0's error).
            CheckpointError: no checkpoint of this method under ``<path>/<name>``.
        """
        folder = Path(self.save_path if path is None else path)
        if not folder.exists():
            raise ValueError(f"Path does not exist: {folder}")
        saved = type(self.method).load(folder / (self.best_name if name is None else str(name)))
        for key, network in saved.networks.items():
            self.method.networks[key].load_state_dict(network.state_dict())
        self._fitted = True
        self.after_load()
        return self

    def after_load(self) -> None:  # noqa: B027 - an optional hook
        """Hook run after :meth:`load` replaced the weights."""

    # ------------------------------------------------------------------ training
    def train(self, n_epochs: int, train_dataset: Iterable[Any],
              eval_dataset: Iterable[Any] | None = None, always_save: bool = False,
              folder: str | None = None) -> Method:
        """Train for ``n_epochs`` passes over ``train_dataset`` (a ``DataLoader``).

        Every ``enjoy_criteria`` epochs (from epoch ``enjoy_criteria``) the policy plays
        :meth:`_enjoy`'s episodes and the weights with the best average return are saved
        (``always_save``: every such epoch's weights, named by the epoch). Each epoch's metrics
        go to ``<folder>/metrics.json``.
        """
        return self.run_training(n_epochs, train_dataset, eval_dataset, always_save, folder)

    def run_training(self, n_epochs: int, train_dataset: Iterable[Any],
                     eval_dataset: Iterable[Any] | None, always_save: bool,
                     folder: str | None,
                     transforms: Callable[[Any], Any] | None = None) -> Method:
        """The loop of :meth:`train` (``transforms`` go to :meth:`_enjoy`)."""
        folder = folder or f"./benchmark_results/{self.folder_name}/{self.environment_name}"
        os.makedirs(folder, exist_ok=True)
        if not self._fitted:
            self.fit_normaliser(train_dataset)
        records: list[dict[str, Any]] = []
        best = -math.inf
        for epoch in range(int(n_epochs)):
            record: dict[str, Any] = {"epoch": epoch, "train": self._train(train_dataset)}
            if eval_dataset is not None:
                record["eval"] = self._eval(eval_dataset)
            stop = False
            if epoch > 0 and epoch % self.enjoy_criteria == 0:
                metrics = self._enjoy(transforms=transforms)
                record["enjoy"] = metrics
                improved = metrics["aer"] > best
                if improved or always_save:
                    best = max(best, metrics["aer"])
                    self.save_checkpoints(epoch, improved, always_save)
                    stop = self.early_stop(metrics["aer"])
            records.append(record)
            atomic_write_text(Path(folder) / METRICS_FILE,
                              json.dumps(records, indent=1, default=plain_json))
            if self.verbose:
                logger.info("%s epoch %d: %s", self.__method_name__, epoch, record)
            if stop:
                break
        return self

    def save_checkpoints(self, epoch: int, improved: bool, always_save: bool) -> None:
        """1.0.0's BC rule: the best weights, or with ``always_save`` every enjoy epoch's."""
        self.save(name=epoch if always_save else None)

    def fit_normaliser(self, dataset: Iterable[Any]) -> None:
        """Fit the policy's observation normaliser on the training states (once)."""
        states = getattr(getattr(dataset, "dataset", None), "states", None)
        if not isinstance(states, torch.Tensor):
            states = torch.cat([batch[0].reshape(len(batch[0]), -1) for batch in dataset])
        self.method.policy.normaliser.fit(states.reshape(len(states), -1).float())
        self._fitted = True

    @abstractmethod
    def _train(self, dataset: Iterable[Any]) -> Metrics:
        """One training pass over ``dataset``."""

    def _eval(self, dataset: Iterable[Any]) -> Metrics:
        """``accuracy`` of the greedy policy on ``(states, actions, ...)`` batches.

        In percent of actions equal to the expert's (discrete, 1.0.0's metric), or the mean L2
        distance to them (continuous).
        """
        self.method.policy.eval()
        scores = [self._policy_score(*self._policy_batch(batch)) for batch in dataset]
        return {"accuracy": float(np.mean(scores))}

    def _policy_batch(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(inputs, encoded targets, raw actions)`` of a ``(states, actions, ...)`` batch.

        Discrete actions may be ``(B,)`` or 1.0.0's ``(B, 1)``.
        """
        state, action, *_ = batch
        return state.reshape(len(state), -1).float(), self.method.policy.encode(action), action

    def _policy_score(self, x: torch.Tensor, target: torch.Tensor,
                      action: torch.Tensor) -> float:
        """Accuracy (percent) or mean L2 distance of the greedy actions on one batch."""
        with torch.no_grad():
            if self.discrete:
                return float(accuracy(self.policy(x), target))
            predicted = torch.as_tensor(self.method.predict(x.numpy(), deterministic=True))
            predicted = predicted.reshape(len(x), -1).float()
            expert = action.reshape(len(x), -1).float()
            return float((expert - predicted).pow(2).sum(1).sqrt().mean())

    def early_stop(self, metric: Any) -> bool:
        """Whether training stops (1.0.0: never)."""
        return False

    # ------------------------------------------------------------------ evaluation
    def _enjoy(self, render: bool = False, teacher_reward: float | None = None,
               random_reward: float | None = None, gym_version: str = "newest",
               transforms: Callable[[Any], Any] | None = None) -> Metrics:
        """Play 100 seeded episodes; return 1.0.0's metrics.

        ``aer`` and ``aer_std``, and given both references ``performance`` and
        ``performance_std``.

        Without ``render``/``transforms``/``gym_version="older"`` the episodes run on a fresh
        copy of the environment (same id and arguments), batched; otherwise one by one on
        :attr:`environment` through :class:`~imitation_datasets.utils.GymWrapper`.
        """
        seeds = [ENJOY_SEED_START + k for k in range(ENJOY_EPISODES)]
        if render or transforms is not None or gym_version != "newest":
            returns = self._sequential_returns(seeds, render, gym_version, transforms)
        else:
            spec = self.environment.spec
            kwargs = {k: v for k, v in dict(spec.kwargs).items() if k != "render_mode"}
            returns = evaluate_policy(self.method, spec.id, seeds, kwargs).tolist()
        metrics = average_episodic_reward(returns)
        if teacher_reward is not None and random_reward is not None:
            metrics.update(performance(returns, teacher_reward, random_reward))
        return metrics

    def _sequential_returns(self, seeds: list[int], render: bool, gym_version: str,
                            transforms: Callable[[Any], Any] | None) -> list[float]:
        environment = GymWrapper(self.environment, gym_version)
        returns = []
        for seed in seeds:
            obs = environment.reset(seed=seed) if gym_version == "newest" else environment.reset()
            done, total = False, 0.0
            while not done:
                if render:
                    environment.render()
                obs, reward, done, *_ = environment.step(self.predict(obs, transforms))
                total += float(reward)
            returns.append(total)
        return returns



def plain_json(value: Any) -> Any:
    """``json.dumps``'s ``default``: NumPy/torch scalars as Python numbers (the metrics log)."""
    if isinstance(value, np.generic | torch.Tensor):
        return value.item()
    return str(value)
