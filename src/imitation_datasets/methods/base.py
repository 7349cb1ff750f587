"""The template every IL method fills in: networks, optimisers, the ``fit`` skeleton, ``predict``.

A method subclasses :class:`Method` and writes only what makes it that method: its
hyperparameters (a frozen dataclass deriving from :class:`MethodConfig`, read from
``methods/config/<name>.yaml``), its networks (:meth:`Method.build_networks`) and its training
loop (:meth:`Method.train`), which reads like the paper's pseudocode and calls
:meth:`Method.end_epoch` after every policy epoch. What methods share lives in components, one
module each:

* :mod:`.selection` — model selection on validation seeds, a callback of :meth:`Method.fit`;
* :mod:`.interaction` — environment play during training, with an explicit ``deterministic``;
* :mod:`.inverse_dynamics` — the inverse dynamics model of the BCO family;
* :mod:`.checkpoint` — safetensors weights plus JSON (no pickle anywhere);
* :mod:`.resume` — saving a run's whole state at epoch ends and resuming it bit for bit
  (methods with ``resumable = True``).

Seeding: networks are initialised under ``torch.manual_seed(seed)`` (the global RNG state is
restored afterwards); shuffling and sampling draw from ``self.generator`` (a ``torch.Generator``
seeded with ``seed``), passed explicitly. The same seed gives the same weights and predictions
(CPU; the thread count is the caller's business).

The contract the benchmark relies on is :class:`~.records.Imitator` (``fit`` and ``predict``):
a :class:`Method` fulfils it, and so can any object with those two methods.
"""

from __future__ import annotations

import inspect
import os
import time
from abc import ABC, abstractmethod
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from imitation_datasets.core.acting import one_or_batch
from imitation_datasets.core.config import from_mapping, to_mapping
from imitation_datasets.core.names import unknown
from imitation_datasets.data.schema import space_from_dict, space_to_dict
from imitation_datasets.methods import exact
from imitation_datasets.methods._data import minibatches, transitions
from imitation_datasets.methods.checkpoint import (
    DESCRIPTION_FILE,
    CheckpointError,
    load_weights,
    read_description,
    read_log,
    write_checkpoint,
)
from imitation_datasets.methods.configuration import MethodConfig, resolve
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.networks import ActionModel, BodyFactory, mlp, most_likely
from imitation_datasets.methods.records import TaskError, TrainingLog, TrainingTask
from imitation_datasets.methods.resume import Resume
from imitation_datasets.methods.selection import EpochMetrics, ModelSelection

C = TypeVar("C", bound=MethodConfig)


class Method(ABC, Generic[C]):
    """An imitation-learning method (Stable-Baselines3-style template).

    Args:
        observation_space: a ``Box``.
        action_space: ``Discrete`` or ``Box``.
        config: the method's config, or a mapping of overrides of its YAML defaults, or
            ``None`` (the defaults); see :func:`~imitation_datasets.methods.load_config` for
            per-environment settings.
        seed: seeds network initialisation, shuffling and sampling.

    Raises:
        ConfigError: unknown configuration keys or wrongly typed values.
        TypeError: unsupported spaces.
    """

    name: ClassVar[str] = "method"
    config_class: ClassVar[type[MethodConfig]] = MethodConfig
    repeats_demos: ClassVar[bool] = False
    """Whether its epochs over the demonstrations go through :meth:`demo_passes` (then its
    results on fewer demonstrations depend on ``task.demo_repeats``)."""
    resumable: ClassVar[bool] = False
    """Whether ``fit(task, resume=path)`` can save the run and resume it (see :mod:`.resume`);
    such a method implements :meth:`run_state` and restores it in ``train``."""
    save_every_seconds: ClassVar[float] = 300.0
    """Least time between two saves of a resumable run's state."""

    # Set by fit for the training loop: the task, model selection and the expert's transitions
    # (s, a, s'), observations flattened to float32 rows.
    task: TrainingTask
    selection: ModelSelection
    expert_obs: torch.Tensor
    expert_actions: torch.Tensor
    expert_next_obs: torch.Tensor

    def __init__(self, observation_space: gym.Space, action_space: gym.Space,
                 config: C | dict[str, Any] | None = None, seed: int = 0) -> None:
        if not isinstance(observation_space, gym.spaces.Box):
            raise TypeError(f"{self.name}: observations must be a Box space, "
                            f"got {observation_space}")
        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.Box)):
            raise TypeError(f"{self.name}: actions must be Discrete or Box, got {action_space}")
        self.observation_space = observation_space
        self.action_space = action_space
        self.config: C = cast(C, resolve(self.config_class, self.name, config))
        self.seed = int(seed)
        self.obs_dim = int(np.prod(observation_space.shape))
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.generator = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.networks: dict[str, ActionModel] = self.build_networks()
        self.log: TrainingLog | None = None
        self.epoch = 0
        self.iteration = 0
        self._interaction: Interaction | None = None
        self._resume: Resume | None = None
        self.restored_run: dict[str, Any] | None = None
        """The method's own saved state when ``fit`` resumes a run, for ``train`` to restore."""

    # ------------------------------------------------------------------ what a method writes
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

    def make_model(self, in_dim: int, body: BodyFactory | None = None) -> ActionModel:
        """An :class:`ActionModel` over ``body`` (default: an MLP of ``hidden``/``activation``)."""
        if body is None:
            body = partial(mlp, hidden=self.config.hidden, activation=self.config.activation)
        return ActionModel(in_dim, self.action_space, body, self.config.continuous_loss)

    def make_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        """Adam over ``model``'s parameters (:class:`.exact.Adam`: the same bits on every CPU)."""
        return exact.Adam(model.parameters(), lr=lr, weight_decay=self.config.weight_decay)

    def train_epoch(self, model: ActionModel, optimizer: torch.optim.Optimizer,
                    inputs: torch.Tensor, targets: torch.Tensor) -> float:
        """One pass of minibatch gradient descent on ``model.loss(inputs, targets)``.

        Returns the mean training loss over the epoch.
        """
        total = torch.zeros((), dtype=torch.float64)
        for x, y in minibatches((inputs, targets), self.config.batch_size, self.generator):
            loss = model.loss(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(x)
        return float(total) / max(len(inputs), 1)

    @property
    def interaction(self) -> Interaction:
        """The environment service of the current ``fit`` (see :mod:`.interaction`)."""
        if self._interaction is None:
            raise RuntimeError(f"{self.name}: the environment is only available during fit")
        return self._interaction

    @property
    def env_steps(self) -> int:
        """Transitions of training interaction in the current (or last) ``fit``."""
        return 0 if self._interaction is None else self._interaction.env_steps

    # ------------------------------------------------------------------ the fit template
    def fit(self, task: TrainingTask,
            resume: str | os.PathLike[str] | None = None) -> TrainingLog:
        """Train on ``task``; keep the weights that model selection picks.

        Args:
            task: the training task.
            resume: a resumable method's state file (see :mod:`.resume`): restored when it
                exists, written at epoch ends, left in place at the end. ``None``: no saving.

        Returns:
            The learning curve; also kept as ``self.log``.

        Raises:
            TaskError: the task does not fit the method.
            TrainingStateError: ``resume`` is unreadable or belongs to another run.
            TypeError: ``resume`` given to a method that is not resumable.
        """
        self._check_task(task)
        if resume is not None and not self.resumable:
            raise TypeError(f"{self.name}: this method cannot resume a run (resume={resume})")
        self._resume = None if resume is None else Resume(Path(resume), self.save_every_seconds)
        self.restored_run = None
        started = time.perf_counter()
        self.task = task
        self.epoch = 0
        self.iteration = 0
        self.log = TrainingLog(self.name, task.env_id, self.seed, to_mapping(self.config))
        self.selection = ModelSelection(task, self.config.eval_every, self.config.eval_episodes,
                                        self.config.selection_tolerance, self.log)
        s, a, s_next = transitions(task.expert)
        self.expert_obs, self.expert_actions, self.expert_next_obs = s, a, s_next
        self._interaction = Interaction(task.env_id, task.env_kwargs, task.interaction_seed,
                                        empty=(s[:0], a[:0], s_next[:0]))
        self.policy.normaliser.fit(s)
        if self._resume is not None:
            self.restored_run = self._resume.restore(self)
        self.train(task)
        self.selection.on_fit_end(self)
        assert self.log is not None
        self.log.epochs = self.epoch
        self.log.env_steps = self.env_steps
        self.log.wall_seconds = time.perf_counter() - started if self._resume is None \
            else self._resume.wall_seconds
        return self.log

    @property
    def resumed(self) -> dict[str, Any] | None:
        """How the last ``fit`` resumed a saved run, or ``None`` when it did not.

        A dict: ``times`` resumed, and the wall and CPU seconds its earlier parts took.
        """
        if self._resume is None or not self._resume.before["times"]:
            return None
        return dict(self._resume.before)

    @property
    def state_source(self) -> str:
        """The state file being restored, for error messages."""
        return str(self._resume.path) if self._resume is not None else self.name

    def run_state(self) -> dict[str, Any]:
        """What a resumable method's loop holds at an epoch end.

        Optimisers, buffers, the environment, as nested dicts, lists, tensors and JSON
        scalars; ``train`` restores it from :attr:`restored_run`. Only resumable methods
        implement it.
        """
        raise NotImplementedError(f"{self.name} is not resumable")

    def end_epoch(self, train_loss: float, idm_loss: float | None = None,
                  idm_accuracy: float | None = None, **info: float) -> bool:
        """Record a finished policy epoch (model selection validates on its schedule).

        Returns:
            ``True`` when ``task.max_epochs`` is reached and training must stop.
        """
        self.epoch += 1
        self.selection.on_epoch_end(self, EpochMetrics(train_loss, idm_loss, idm_accuracy, info))
        if self._resume is not None:
            self._resume.save_if_due(self)
        return self.task.max_epochs is not None and self.epoch >= self.task.max_epochs

    def demo_passes(self, *rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``rows`` (aligned with the demonstrations) repeated ``task.demo_repeats`` times.

        A policy epoch over them then has about as many gradient steps on fewer demonstrations
        as on the protocol's full training set (the passes are shuffled together); with one
        repeat the tensors are returned as they are.
        """
        repeats = self.task.demo_repeats
        if repeats < 1:
            raise TaskError(f"{self.name}: demo_repeats must be >= 1, got {repeats}")
        if repeats == 1:
            return rows
        return tuple(t.repeat(repeats, *([1] * (t.dim() - 1))) for t in rows)

    def epochs_for(self, planned: int) -> int:
        """``planned`` epochs, or ``task.max_epochs`` when the task overrides it."""
        return planned if self.task.max_epochs is None else int(self.task.max_epochs)

    def training_accuracy(self) -> float | None:
        """The policy's agreement with the expert's training actions (discrete actions only)."""
        if not self.discrete:
            return None
        predicted = most_likely(self.policy, self.expert_obs)
        truth = self.policy.encode(self.expert_actions)
        return float((predicted == truth).float().mean())

    def _check_task(self, task: TrainingTask) -> None:
        data = task.expert
        shape = tuple(data.obs.shape[1:])
        if int(np.prod(shape)) != self.obs_dim:
            raise TaskError(f"{self.name}: expert observations have shape {shape}, the "
                             f"observation space {self.observation_space.shape}")
        is_int = np.asarray(data.actions).dtype.kind in "iu"
        if self.discrete and not is_int:
            raise TaskError(f"{self.name}: Discrete action space but the expert's actions are "
                             f"{data.actions.dtype}")
        if not self.discrete and is_int:
            raise TaskError(f"{self.name}: Box action space but the expert's actions are "
                             f"integers ({data.actions.dtype})")

    # ------------------------------------------------------------------ acting
    def predict(self, obs: Any, deterministic: bool = True) -> np.ndarray:
        """Actions for one observation or a batch (the rule of ``core.acting.one_or_batch``).

        Returns the actions only (an array, never Stable-Baselines3's ``(actions, state)``
        tuple: a method has no recurrent state, and every caller goes through
        :func:`~imitation_datasets.core.acting.batch_actions`, which accepts both). Discrete:
        ``int64`` indices (argmax, or a softmax sample when not deterministic). Continuous:
        ``float32`` clipped to the action bounds (the mean, or a Gaussian sample when not
        deterministic and the model is Gaussian). One observation gives one action.
        """
        act = partial(self._act, deterministic=deterministic)
        return one_or_batch(act, obs, obs_ndim=len(self.observation_space.shape),
                            dtype=np.float32)

    def _act(self, obs: np.ndarray, deterministic: bool) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(obs.reshape(-1, self.obs_dim)))
        with torch.inference_mode():
            target = self.policy.mode(x) if deterministic else \
                self.policy.sample(x, self.generator)
            actions = self.policy.decode(target)
        if not isinstance(self.action_space, gym.spaces.Box):
            return actions.numpy().astype(np.int64)
        return np.clip(actions.numpy().astype(np.float32), self.action_space.low,
                       self.action_space.high)

    # ------------------------------------------------------------------ checkpoints
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``weights.safetensors`` and ``method.json`` (and the training log) to a folder."""
        description = {
            "method": self.name,
            "observation_space": space_to_dict(self.observation_space),
            "action_space": space_to_dict(self.action_space),
            "config": to_mapping(self.config),
            "seed": self.seed,
        }
        log = None if self.log is None else self.log.to_dict()
        return write_checkpoint(path, dict(self.networks), description, log)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Method[Any]:
        """Load a checkpoint written by :meth:`save`.

        ``Method.load`` builds the class whose ``name`` the checkpoint records, among the
        subclasses of :class:`Method` defined so far (importing :mod:`imitation_datasets.methods`
        defines the shipped ones); ``BC.load`` etc. only accept their own checkpoints.

        Raises:
            CheckpointError: missing or malformed files, or a checkpoint of another method.
        """
        path = Path(path)
        description = read_description(path)
        saved = str(description.get("method"))
        if cls is not Method and saved != cls.name:
            raise CheckpointError(f"{path}: checkpoint of method {saved!r}, cannot load it as "
                                  f"{cls.name!r}")
        try:
            target = cls if cls is not Method else _subclass_named(saved)
            config = from_mapping(target.config_class, description["config"],
                                  f"{path / DESCRIPTION_FILE} config")
            method = target(space_from_dict(description["observation_space"]),
                            space_from_dict(description["action_space"]), config=cast(Any, config),
                            seed=int(description["seed"]))
        except (LookupError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: malformed {DESCRIPTION_FILE} ({exc})") from exc
        load_weights(path, dict(method.networks), saved)
        log = read_log(path)
        if log is not None:
            try:
                method.log = TrainingLog.from_dict(log)
            except TypeError as exc:
                raise CheckpointError(f"{path}: malformed training log ({exc})") from exc
        return method

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, action_space={self.action_space})"


def _subclass_named(name: str) -> type[Method[Any]]:
    """The one concrete subclass of :class:`Method` whose ``name`` is ``name``."""
    found: dict[str, set[type[Method[Any]]]] = {}
    stack = list(Method.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not inspect.isabstract(cls):
            found.setdefault(cls.name, set()).add(cls)
    if name not in found:
        raise unknown("method", name, found)
    if len(found[name]) > 1:
        classes = ", ".join(sorted(c.__qualname__ for c in found[name]))
        raise LookupError(f"several method classes are named {name!r} ({classes})")
    return next(iter(found[name]))
