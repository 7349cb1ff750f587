"""The base class of every IL method: the training-loop skeleton and the shared plumbing.

A method subclasses :class:`Method` and writes only what makes it that method: its networks
(:meth:`Method.build_networks`) and its training loop (:meth:`Method.train`), which reads like
the paper's pseudocode and calls :meth:`Method.end_epoch` after every policy epoch. Everything
else lives here, once:

* seeding: networks are initialised under ``torch.manual_seed(seed)`` (the global RNG state is
  restored afterwards); shuffling and sampling use ``self.generator`` (a ``torch.Generator``)
  and ``self.rng`` (``numpy.random.default_rng(seed)``), passed explicitly. The same seed gives
  the same weights and predictions (CPU; thread count is the caller's business);
* model selection: every ``eval_every`` policy epochs (and after the last one) the policy plays
  the task's validation seeds through :func:`~imitation_datasets.core.evaluation.evaluate_policy`;
  the weights with the best validation AER are kept. Test seeds are never seen here;
* the learning curve (:class:`TrainingLog`), environment interaction with seeded episodes, the
  inverse dynamics model of the BCO family (:class:`ObservationMethod`);
* ``predict`` (batched NumPy in, NumPy actions out) and ``save``/``load`` (safetensors weights
  plus a JSON description; no pickle anywhere).
"""

from __future__ import annotations

import json
import math
import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.metrics import performance
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import space_from_dict, space_to_dict
from imitation_datasets.methods._data import minibatches, transitions
from imitation_datasets.methods.configuration import ConfigError, resolve
from imitation_datasets.methods.networks import ActionModel

CHECKPOINT_FORMAT = "imitation_datasets.method"
CHECKPOINT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
DESCRIPTION_FILE = "method.json"
LOG_FILE = "training_log.json"


class CheckpointError(ValueError):
    """A method checkpoint is missing, malformed, or belongs to another method."""


# ---------------------------------------------------------------------------------- task, log
@dataclass
class TrainingTask:
    """Everything a method may use for training (the caller has already split the data).

    Attributes:
        env_id: Gymnasium id of the environment.
        env_kwargs: extra ``gym.make`` arguments.
        expert: the training episodes only; transitions are ``(s, a, s')`` with ``s'`` the next
            observation inside the episode and ``final_obs`` after the last step.
        random: random-policy episodes (pre-demonstration data of the BCO family), or ``None``
            (then the method plays seeded random episodes itself).
        validation_seeds: reset seeds for model selection.
        expert_return: expert's average return (for validation performance).
        random_return: random policy's average return (for validation performance).
        success_threshold: episode return counted as a success (ABCO/IUPE sampling ratio).
        interaction_seed: base of every seed used to interact with the environment during
            training: the ``k``-th episode is reset with ``episode_seed(interaction_seed, k, 0)``.
        max_epochs: caps the number of policy-training epochs (BC: replaces ``epochs``).
    """

    env_id: str
    env_kwargs: dict[str, Any]
    expert: DatasetArrays
    random: DatasetArrays | None
    validation_seeds: list[int]
    expert_return: float
    random_return: float
    success_threshold: float = math.inf
    interaction_seed: int = 0
    max_epochs: int | None = None


@dataclass
class EvalRecord:
    """One point of the learning curve (after ``epoch`` policy epochs)."""

    epoch: int
    iteration: int
    validation_aer: float
    validation_performance: float | None
    validation_returns: list[float]
    train_loss: float
    accuracy: float | None
    idm_loss: float | None
    idm_accuracy: float | None
    env_steps: int
    wall_seconds: float
    info: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainingLog:
    """The learning curve of one ``fit`` and the epoch whose weights were kept.

    ``accuracy`` is the policy's agreement with the expert's actions on the training data
    (discrete actions only); ``idm_accuracy`` the agreement of the inverse dynamics model's
    labels with them (the BCO family never trains on the expert's actions). ``env_steps``
    counts pre-demonstration (random) and post-demonstration transitions; validation episodes
    are not counted.
    """

    method: str
    env_id: str
    seed: int
    config: dict[str, Any]
    records: list[EvalRecord] = field(default_factory=list)
    best_epoch: int = -1
    best_validation_aer: float = -math.inf
    best_validation_performance: float | None = None
    epochs: int = 0
    env_steps: int = 0
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingLog:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["records"] = [EvalRecord(**r) for r in data.get("records", [])]
        return cls(**data)


# ---------------------------------------------------------------------------------- the base
class Method(ABC):
    """An imitation-learning method (Stable-Baselines3-style template).

    Args:
        observation_space: a ``Box``.
        action_space: ``Discrete`` or ``Box``.
        config: overrides of the method's defaults (``methods/config/<name>.yaml``); see
            :func:`~imitation_datasets.methods.load_config` for per-environment settings.
        seed: seeds network initialisation, shuffling and sampling.

    Raises:
        ConfigError: unknown configuration keys or wrongly typed values.
    """

    name: ClassVar[str] = "method"

    def __init__(self, observation_space: gym.Space, action_space: gym.Space,
                 config: dict[str, Any] | None = None, seed: int = 0) -> None:
        if not isinstance(observation_space, gym.spaces.Box):
            raise TypeError(f"{self.name}: observations must be a Box space, "
                            f"got {observation_space}")
        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise TypeError(f"{self.name}: actions must be Discrete or Box, got {action_space}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = resolve(self.name, config)
        for key in ("batch_size", "eval_every"):
            if self.config[key] < 1:
                raise ConfigError(f"{self.name} config: {key!r} must be >= 1, "
                                  f"got {self.config[key]}")
        if self.config.get("idm_input", "delta") not in ("delta", "pair"):
            raise ConfigError(f"{self.name} config: 'idm_input' must be 'delta' or 'pair', "
                              f"got {self.config['idm_input']!r}")
        self.seed = int(seed)
        self.obs_dim = int(np.prod(observation_space.shape))
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.networks: dict[str, ActionModel] = self.build_networks()
        self.log: TrainingLog | None = None
        self.task: TrainingTask | None = None

    # ------------------------------------------------------------------ hooks
    def build_networks(self) -> dict[str, ActionModel]:
        """The method's networks by name; ``"policy"`` is required. Override to add more."""
        return {"policy": self.make_model(self.obs_dim)}

    @abstractmethod
    def train(self, task: TrainingTask) -> None:
        """The method's training loop.

        It calls :meth:`end_epoch` after every policy epoch and returns early when that returns
        ``True``.
        """

    # ------------------------------------------------------------------ building blocks
    @property
    def policy(self) -> ActionModel:
        """The policy network ``pi(s)``."""
        return self.networks["policy"]

    def make_model(self, in_dim: int) -> ActionModel:
        """An :class:`ActionModel` built from this method's network settings."""
        return ActionModel(in_dim, self.action_space, self.config,
                           self.config["continuous_loss"])

    def make_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        """Adam over ``model``'s parameters."""
        return torch.optim.Adam(model.parameters(), lr=lr,
                                weight_decay=self.config["weight_decay"])

    def train_epoch(self, model: ActionModel, optimizer: torch.optim.Optimizer,
                    inputs: torch.Tensor, targets: torch.Tensor) -> float:
        """One pass of minibatch gradient descent on ``model.loss(inputs, targets)``.

        Returns the mean training loss over the epoch.
        """
        total = torch.zeros((), dtype=torch.float64)
        for x, y in minibatches((inputs, targets), self.config["batch_size"], self.generator):
            loss = model.loss(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(x)
        return float(total) / max(len(inputs), 1)

    @torch.inference_mode()
    def infer(self, model: ActionModel, inputs: torch.Tensor, sample: bool = False,
              chunk: int = 16384) -> torch.Tensor:
        """``model``'s most likely (or sampled) targets for ``inputs``, in chunks."""
        out = [model.sample(x, self.generator) if sample else model.mode(x)
               for x in inputs.split(chunk)]
        return torch.cat(out) if out else torch.zeros(0)

    # ------------------------------------------------------------------ fit
    def fit(self, task: TrainingTask) -> TrainingLog:
        """Train on ``task``; keep the weights with the best validation AER.

        Returns:
            The learning curve; also kept as ``self.log``.
        """
        self._check_task(task)
        self.task = task
        self.epoch = 0
        self.iteration = 0
        self.env_steps = 0
        self._interaction_episodes = 0
        self._started = time.perf_counter()
        self._best_state: dict[str, dict[str, torch.Tensor]] | None = None
        self._last_metrics: dict[str, Any] | None = None
        self._evaluated_epoch = -1
        self._max_aer = -math.inf
        span = task.expert_return - task.random_return
        self._tolerance = self.config["selection_tolerance"] * span if span > 0 else 0.0
        eval_episodes = self.config["eval_episodes"]
        self._validation_seeds = list(task.validation_seeds)[:eval_episodes] \
            if eval_episodes else list(task.validation_seeds)
        if not self._validation_seeds:
            raise ValueError(f"{self.name}: the task has no validation seeds")
        self.log = TrainingLog(self.name, task.env_id, self.seed, dict(self.config))
        s, a, s_next = transitions(task.expert)
        self.expert_obs, self.expert_actions, self.expert_next_obs = s, a, s_next
        self.policy.normaliser.fit(s)
        self.train(task)
        if self._evaluated_epoch != self.epoch and self._last_metrics is not None:
            self._evaluate(**self._last_metrics)
        if self._best_state is not None:
            for name, net in self.networks.items():
                net.load_state_dict(self._best_state[name])
        self.log.epochs = self.epoch
        self.log.env_steps = self.env_steps
        self.log.wall_seconds = time.perf_counter() - self._started
        return self.log

    def end_epoch(self, train_loss: float, idm_loss: float | None = None,
                  idm_accuracy: float | None = None, **info: float) -> bool:
        """Record a finished policy epoch; validate every ``eval_every`` epochs.

        Returns:
            ``True`` when ``task.max_epochs`` is reached and training must stop.
        """
        self.epoch += 1
        self._last_metrics = dict(train_loss=train_loss, idm_loss=idm_loss,
                                  idm_accuracy=idm_accuracy, **info)
        if self.epoch % self.config["eval_every"] == 0:
            self._evaluate(**self._last_metrics)
        return self.task.max_epochs is not None and self.epoch >= self.task.max_epochs

    def epochs_for(self, planned: int) -> int:
        """``planned`` epochs, or ``task.max_epochs`` when the task overrides it."""
        return planned if self.task.max_epochs is None else int(self.task.max_epochs)

    def _evaluate(self, train_loss: float, idm_loss: float | None, idm_accuracy: float | None,
                  **info: float) -> None:
        task = self.task
        returns = evaluate_policy(self, task.env_id, self._validation_seeds, task.env_kwargs)
        aer = float(returns.mean())
        try:
            perf = performance(aer, task.random_return, task.expert_return)
        except ValueError:
            perf = None
        accuracy = None
        if self.discrete:
            predicted = self.infer(self.policy, self.expert_obs)
            truth = self.policy.encode(self.expert_actions)
            accuracy = float((predicted == truth).float().mean())
        record = EvalRecord(
            epoch=self.epoch, iteration=self.iteration, validation_aer=aer,
            validation_performance=perf, validation_returns=returns.tolist(),
            train_loss=float(train_loss), accuracy=accuracy,
            idm_loss=None if idm_loss is None else float(idm_loss),
            idm_accuracy=None if idm_accuracy is None else float(idm_accuracy),
            env_steps=self.env_steps, wall_seconds=time.perf_counter() - self._started,
            info={k: float(v) for k, v in info.items()},
        )
        self.log.records.append(record)
        self._evaluated_epoch = self.epoch
        # Keep the latest weights whose validation AER is within `selection_tolerance`
        # (performance units) of the best so far: among checkpoints that 10 noisy validation
        # episodes cannot tell apart, the longer-trained one. Tolerance 0: the best AER.
        self._max_aer = max(self._max_aer, aer)
        if aer >= self._max_aer - self._tolerance:
            self.log.best_validation_aer = aer
            self.log.best_validation_performance = perf
            self.log.best_epoch = self.epoch
            self._best_state = {name: {k: v.detach().clone() for k, v in net.state_dict().items()}
                                for name, net in self.networks.items()}

    def _check_task(self, task: TrainingTask) -> None:
        data = task.expert
        shape = tuple(data.obs.shape[1:])
        if int(np.prod(shape)) != self.obs_dim:
            raise ValueError(f"{self.name}: expert observations have shape {shape}, the "
                             f"observation space {self.observation_space.shape}")
        is_int = np.asarray(data.actions).dtype.kind in "iu"
        if self.discrete and not is_int:
            raise ValueError(f"{self.name}: Discrete action space but the expert's actions are "
                             f"{data.actions.dtype}")
        if not self.discrete and is_int:
            raise ValueError(f"{self.name}: Box action space but the expert's actions are "
                             f"integers ({data.actions.dtype})")

    # ------------------------------------------------------------------ acting
    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations (or for one observation).

        Discrete: ``int64`` indices (argmax, or a softmax sample when not deterministic).
        Continuous: ``float32`` clipped to the action bounds (the mean, or a Gaussian sample when
        not deterministic and the model is Gaussian).
        """
        obs = np.asarray(obs, dtype=np.float32)
        single = obs.shape == tuple(self.observation_space.shape)
        x = torch.from_numpy(np.ascontiguousarray(obs.reshape(-1, self.obs_dim)))
        with torch.inference_mode():
            target = self.policy.mode(x) if deterministic else \
                self.policy.sample(x, self.generator)
            actions = self.policy.decode(target)
        if self.discrete:
            out = actions.numpy().astype(np.int64)
        else:
            out = np.clip(actions.numpy().astype(np.float32), self.action_space.low,
                          self.action_space.high)
        return out[0] if single else out

    def actor(self, stochastic: bool) -> Any:
        """The policy as an environment actor (sampling actions when ``stochastic``)."""
        return _Actor(self, stochastic)

    def play_episodes(self, count: int, policy: Any | None) -> list[Episode]:
        """Play ``count`` training episodes with ``policy`` (``None``: random actions).

        Episode ``k`` of the training run is reset with ``episode_seed(interaction_seed, k, 0)``;
        the steps are added to ``self.env_steps``.
        """
        task = self.task
        first = self._interaction_episodes
        seeds = [episode_seed(task.interaction_seed, first + k, 0) for k in range(count)]
        self._interaction_episodes += count
        episodes = play(partial(make_env, task.env_id, task.env_kwargs), seeds, policy=policy,
                        n_envs=16, random_actions=policy is None)
        self.env_steps += sum(e.length for e in episodes)
        return episodes

    def play_steps(self, steps: int, policy: Any | None) -> tuple[torch.Tensor, ...]:
        """Play whole episodes until ``steps`` transitions are collected.

        Returns exactly ``steps`` transitions ``(s, a, s')`` (the last episode may be cut).
        """
        episodes: list[Episode] = []
        collected = 0
        while collected < steps:
            mean_length = collected / len(episodes) if episodes else None
            need = 16 if mean_length is None else \
                int(np.clip(math.ceil((steps - collected) / max(mean_length, 1.0)), 1, 256))
            new = self.play_episodes(need, policy)
            episodes += new
            collected += sum(e.length for e in new)
        if not episodes:
            return _empty_transitions(self.obs_dim, self.expert_actions)
        s, a, s_next = self.transitions_of(episodes)
        return s[:steps], a[:steps], s_next[:steps]

    @staticmethod
    def transitions_of(episodes: list[Episode]) -> tuple[torch.Tensor, ...]:
        """``(s, a, s')`` tensors of played episodes."""
        return transitions(DatasetArrays.from_episodes(episodes))

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``weights.safetensors`` and ``method.json`` (and the training log) to a folder."""
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tensors = {f"{name}.{key}": value.detach().contiguous().clone()
                   for name, net in self.networks.items()
                   for key, value in net.state_dict().items()}
        _atomic(path / WEIGHTS_FILE, lambda tmp: save_file(tensors, str(tmp)))
        description = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "method": self.name,
            "observation_space": space_to_dict(self.observation_space),
            "action_space": space_to_dict(self.action_space),
            "config": self.config,
            "seed": self.seed,
        }
        text = json.dumps(description, indent=1)
        _atomic(path / DESCRIPTION_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        if self.log is not None:
            log = json.dumps(self.log.to_dict(), indent=1)
            _atomic(path / LOG_FILE, lambda tmp: tmp.write_text(log, encoding="utf-8"))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Method:
        """Load a checkpoint written by :meth:`save` (``Method.load`` picks the right class).

        Raises:
            CheckpointError: missing or malformed files, or (``BC.load`` etc.) a checkpoint
                of another method.
        """
        from safetensors.torch import load_file

        from imitation_datasets.methods import get_method

        path = Path(path)
        try:
            description = json.loads((path / DESCRIPTION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path}: not a method checkpoint ({exc})") from None
        if not isinstance(description, dict) or description.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(f"{path}: not a method checkpoint ({DESCRIPTION_FILE} has no "
                                  f"format {CHECKPOINT_FORMAT!r})")
        saved = str(description.get("method"))
        if cls is not Method and saved != cls.name:
            raise CheckpointError(f"{path}: checkpoint of method {saved!r}, cannot load it as "
                                  f"{cls.name!r}")
        try:
            method = get_method(saved)(space_from_dict(description["observation_space"]),
                                       space_from_dict(description["action_space"]),
                                       config=description["config"],
                                       seed=int(description["seed"]))
        except (LookupError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: malformed {DESCRIPTION_FILE} ({exc})") from None
        try:
            state = load_file(str(path / WEIGHTS_FILE))
        except Exception as exc:  # noqa: BLE001 - safetensors raises several types
            raise CheckpointError(f"{path}: cannot read {WEIGHTS_FILE} ({exc})") from None
        for name, net in method.networks.items():
            prefix = f"{name}."
            part = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            try:
                net.load_state_dict(part, strict=True)
            except RuntimeError as exc:
                first = str(exc).strip().splitlines()[0]
                raise CheckpointError(f"{path}: weights do not fit {saved!r} ({first})") from None
        if (path / LOG_FILE).is_file():
            method.log = TrainingLog.from_dict(json.loads((path / LOG_FILE).read_text("utf-8")))
        return method

    @classmethod
    def from_env(cls, env_id: str, config: dict[str, Any] | None = None, seed: int = 0,
                 env_kwargs: dict[str, Any] | None = None) -> Method:
        """Build the method for ``env_id`` with that env's YAML settings plus ``config``."""
        from imitation_datasets.methods.configuration import load_config

        env = make_env(env_id, env_kwargs)
        try:
            merged = {**load_config(cls.name, env_id), **(config or {})}
            return cls(env.observation_space, env.action_space, merged, seed)
        finally:
            env.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, action_space={self.action_space})"


class ObservationMethod(Method):
    """A method that learns from observations only (the BCO family).

    Adds the inverse dynamics model ``M(s, s') -> a`` (network ``"idm"``), trained on the
    agent's own transitions, and the expert's actions inferred by it. The expert's recorded
    actions are never used for training, only to report ``idm_accuracy``.
    """

    def build_networks(self) -> dict[str, ActionModel]:
        """The policy and the inverse dynamics model (same architecture)."""
        return {"policy": self.make_model(self.obs_dim),
                "idm": self.make_model(2 * self.obs_dim)}

    @property
    def idm(self) -> ActionModel:
        """The inverse dynamics model ``M(s, s')``."""
        return self.networks["idm"]

    def idm_inputs(self, s: torch.Tensor, s_next: torch.Tensor) -> torch.Tensor:
        """The IDM's input: ``[s, s' - s]`` (``idm_input: delta``) or ``[s, s']``."""
        if self.config["idm_input"] == "delta":
            return torch.cat([s, s_next - s], dim=1)
        return torch.cat([s, s_next], dim=1)

    def pre_demonstration(self, task: TrainingTask) -> tuple[torch.Tensor, torch.Tensor]:
        """``I_pre``: ``random_steps`` random-policy transitions as ``(IDM inputs, targets)``.

        Taken from ``task.random`` first (in episode order); when it holds fewer, the rest is
        played with seeded random actions. The IDM's input normaliser is fitted on these
        inputs together with the expert's (observation-only) transitions.
        """
        wanted = int(self.config["random_steps"])
        parts: list[tuple[torch.Tensor, ...]] = []
        have = 0
        if task.random is not None and task.random.n_steps:
            s, a, s_next = transitions(task.random)
            parts.append((s[:wanted], a[:wanted], s_next[:wanted]))
            have = len(parts[0][0])
            self.env_steps += have
        if have < wanted:
            parts.append(self.play_steps(wanted - have, policy=None))
        s, a, s_next = (torch.cat(p) for p in zip(*parts))
        inputs = self.idm_inputs(s, s_next)
        self.expert_idm_inputs = self.idm_inputs(self.expert_obs, self.expert_next_obs)
        self.idm.normaliser.fit(torch.cat([inputs, self.expert_idm_inputs]))
        return inputs, self.idm.encode(a)

    def to_idm_data(self, s: torch.Tensor, a: torch.Tensor,
                    s_next: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Transitions as ``(IDM inputs, encoded targets)``."""
        return self.idm_inputs(s, s_next), self.idm.encode(a)

    def infer_expert_actions(self, sample: bool = False) -> torch.Tensor:
        """The IDM's labels for the expert's ``(s, s')`` (most likely, or sampled)."""
        labels = self.infer(self.idm, self.expert_idm_inputs, sample=sample)
        self.label_quality = self._label_quality(labels)
        return labels

    def _label_quality(self, labels: torch.Tensor) -> dict[str, float]:
        truth = self.policy.encode(self.expert_actions)
        if self.discrete:
            return {"idm_accuracy": float((labels == truth).float().mean())}
        return {"label_mse": float(((labels - truth) ** 2).mean())}

    def end_epoch(self, train_loss: float, idm_loss: float | None = None,
                  idm_accuracy: float | None = None, **info: float) -> bool:
        """As :meth:`Method.end_epoch`, adding the quality of the current expert labels."""
        quality = dict(getattr(self, "label_quality", {}))
        idm_accuracy = quality.pop("idm_accuracy", idm_accuracy)
        return super().end_epoch(train_loss, idm_loss, idm_accuracy, **quality, **info)


class _Actor:
    """Adapter giving a method's policy the ``predict`` interface the rollout code calls."""

    def __init__(self, method: Method, stochastic: bool) -> None:
        self.method = method
        self.stochastic = stochastic

    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        return self.method.predict(obs, deterministic=not self.stochastic)


def _empty_transitions(obs_dim: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return (torch.zeros(0, obs_dim), like[:0], torch.zeros(0, obs_dim))


def _atomic(path: Path, write: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    os.replace(tmp, path)
