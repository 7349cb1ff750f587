"""Resuming a stopped training run: a component of the ``fit`` template.

A method whose class sets ``resumable = True`` (the soft-Q family today) can be fitted with
``fit(task, resume=path)``. At the end of a policy epoch, once ``every_seconds`` have passed
since the last save, the whole run is written to ``path``
(:mod:`.training_state`): networks, the method's generator, model selection and its learning
curve, the interaction counters, and what the method's loop holds (:meth:`Method.run_state`:
optimisers, target networks, replay buffer, the environment's episode so far). A later
``fit(task, resume=path)`` on a fresh method of the same configuration restores it and goes on
from the next step; the result is the same, bit for bit, as if the run had never stopped
(``tests/test_resume.py``). When to save depends on the clock, what is saved does not, so the
result does not depend on when (or whether) the run stopped.

The file records which run it belongs to (method, configuration, seed, environment,
demonstrations, seeds, the torch release and a digest of the source code a run can
execute: the methods and the package modules they import); restoring
it into another run, or with other code, is refused with
:class:`~.training_state.TrainingStateError`, as is a file that does not fit the networks. The
file is left in place when ``fit`` returns; the caller removes it once the result is safe.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from imitation_datasets.core.config import to_mapping
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.records import TrainingLog, TrainingTask
from imitation_datasets.methods.selection import EpochMetrics, ModelSelection
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    expect,
    expect_tensor,
    load_module_state,
    read_training_state,
    write_training_state,
)

logger = logging.getLogger(__name__)


class Resumable(Protocol):
    """What this component reads and restores of a method (:class:`~.base.Method` has it)."""

    config: Any
    seed: int
    task: TrainingTask
    expert_obs: torch.Tensor
    expert_actions: torch.Tensor
    expert_next_obs: torch.Tensor
    networks: dict[str, Any]
    generator: torch.Generator
    epoch: int
    iteration: int
    log: TrainingLog | None
    selection: ModelSelection

    @property
    def name(self) -> str:
        """The method's registered name."""

    @property
    def interaction(self) -> Interaction:
        """The run's environment service."""

    def run_state(self) -> dict[str, Any]:
        """The method's own part of the state."""


PACKAGE = "imitation_datasets"


def code_files() -> list[Path]:
    """The package's sources a training run can execute, relative to the package folder.

    The methods' modules and every package module they import, directly or through another
    (imports read from the sources with :mod:`ast`, including those inside functions), so a
    change in a shared module (rollout, evaluation, datasets) invalidates saved states too.
    """
    root = Path(__file__).resolve().parent.parent
    todo = sorted(Path(__file__).resolve().parent.rglob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _package_imports(path):
            parts = name.split(".")[1:]
            for end in range(1, len(parts) + 1):  # a module's packages run their __init__
                for candidate in (root.joinpath(*parts[:end]).with_suffix(".py"),
                                  root.joinpath(*parts[:end], "__init__.py")):
                    if candidate.is_file() and candidate not in seen:
                        todo.append(candidate)
    return sorted(p.relative_to(root) for p in seen)


def _package_imports(path: Path) -> list[str]:
    """Dotted names of this package that ``path`` imports.

    ``from a.b import c`` gives both ``a.b`` and ``a.b.c`` (``c`` may be a module).
    """
    names = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")]


@functools.cache
def code_digest() -> str:
    """SHA-256 of :func:`code_files`: a state saved by other code is not restored."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in code_files():
        digest.update(path.as_posix().encode())
        digest.update((root / path).read_bytes())
    return digest.hexdigest()


def run_identity(method: Resumable) -> dict[str, Any]:
    """What a saved state must match to be restored into ``method``'s current ``fit``."""
    task = method.task
    digest = hashlib.sha256()
    for tensor in (method.expert_obs, method.expert_actions, method.expert_next_obs):
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(np.ascontiguousarray(tensor.numpy()).tobytes())
    return {
        "method": method.name,
        "config": to_mapping(method.config),
        "seed": method.seed,
        "env_id": task.env_id,
        "env_kwargs": {str(k): repr(v) for k, v in sorted(task.env_kwargs.items())},
        "interaction_seed": int(task.interaction_seed),
        "validation_seeds": [int(s) for s in task.validation_seeds],
        "max_epochs": task.max_epochs,
        "demo_repeats": int(task.demo_repeats),
        "expert_sha256": digest.hexdigest(),
        "torch": torch.__version__,
        "code": code_digest(),
    }


class Resume:
    """Saves and restores a resumable method's run (see the module docstring).

    Args:
        path: the state file.
        every_seconds: least time between two saves (0: after every epoch).
    """

    def __init__(self, path: str | Path, every_seconds: float) -> None:
        self.path = Path(path)
        self.every_seconds = float(every_seconds)
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.last_save = self.started
        self.before: dict[str, Any] = {"times": 0, "wall_seconds": 0.0, "cpu_seconds": 0.0}
        """What earlier parts of the run took (``times``: how often it was resumed)."""

    @property
    def wall_seconds(self) -> float:
        """The run's wall time so far, earlier parts included."""
        return self.before["wall_seconds"] + time.perf_counter() - self.started

    def restore(self, method: Resumable) -> dict[str, Any] | None:
        """Restore the saved run into ``method`` (inside ``fit``, before ``train``).

        Returns:
            The method's own part (:meth:`Method.run_state` as saved), or ``None`` when there
            is no saved state.

        Raises:
            TrainingStateError: the state is unreadable or belongs to another run.
        """
        if not self.path.exists() and not self.path.is_symlink():
            return None
        where = str(self.path)
        state = read_training_state(self.path)
        if state.get("identity") != run_identity(method):
            raise TrainingStateError(f"{where}: the saved training state belongs to another run "
                                     f"(method, configuration, seeds, data or code differ)")
        before = expect(state, "before", dict, where)
        self.before = {"times": int(expect(before, "times", int, where)) + 1,
                       "wall_seconds": float(expect(before, "wall_seconds", float, where)),
                       "cpu_seconds": float(expect(before, "cpu_seconds", float, where))}
        networks = expect(state, "networks", dict, where)
        for name, net in method.networks.items():
            load_module_state(net, networks.get(name), name, where)
        generator = expect_tensor(state, "generator", method.generator.get_state(), where)
        method.generator.set_state(generator)
        method.epoch = int(expect(state, "epoch", int, where))
        method.iteration = int(expect(state, "iteration", int, where))
        interaction = expect(state, "interaction", dict, where)
        service = method.interaction
        service.env_steps = int(expect(interaction, "env_steps", int, where))
        service.episodes_played = int(expect(interaction, "episodes_played", int, where))
        method.log = restore_selection(method, expect(state, "selection", dict, where), where,
                                       self.before["wall_seconds"])
        logger.info("%s: resuming %s (seed %d) after epoch %d, %d environment steps", where,
                    method.name, method.seed, method.epoch, service.env_steps)
        return expect(state, "run", dict, where)

    def save_if_due(self, method: Resumable) -> None:
        """Write the run's state when ``every_seconds`` have passed since the last save."""
        now = time.perf_counter()
        if now - self.last_save < self.every_seconds:
            return
        selection = method.selection
        state = {
            "identity": run_identity(method),
            "before": {"times": self.before["times"],
                       "wall_seconds": self.wall_seconds,
                       "cpu_seconds": self.before["cpu_seconds"]
                       + time.process_time() - self.cpu_started},
            "networks": {name: net.state_dict() for name, net in method.networks.items()},
            "generator": method.generator.get_state(),
            "epoch": method.epoch,
            "iteration": method.iteration,
            "interaction": {"env_steps": method.interaction.env_steps,
                            "episodes_played": method.interaction.episodes_played},
            "selection": {
                "log": None if method.log is None else method.log.to_dict(),
                "best_state": selection.best_state,
                "evaluated_epoch": selection.evaluated_epoch,
                "max_aer": selection.max_aer,
                "last": None if selection.last is None else asdict(selection.last),
            },
            "run": method.run_state(),
        }
        write_training_state(self.path, state)
        self.last_save = time.perf_counter()


def restore_selection(method: Resumable, saved: dict[str, Any], where: str,
                      wall_before: float) -> TrainingLog:
    """Model selection's saved part back into ``method.selection``; returns the restored log."""
    selection = method.selection
    try:
        log = TrainingLog.from_dict(expect(saved, "log", dict, where))
        last = saved.get("last")
        selection.last = None if last is None else EpochMetrics(**last)
    except TypeError as exc:
        raise TrainingStateError(f"{where}: malformed learning curve in the training state "
                                 f"({exc})") from exc
    best = saved.get("best_state")
    if best is not None:
        if not isinstance(best, dict) or set(best) != set(method.networks):
            raise TrainingStateError(f"{where}: the selected weights do not fit the networks")
        for name, net in method.networks.items():  # checked by loading them into a copy
            load_module_state(_clone(net), best[name], f"selected {name}", where)
    selection.best_state = best
    selection.evaluated_epoch = int(expect(saved, "evaluated_epoch", int, where))
    selection.max_aer = float(expect(saved, "max_aer", float, where))
    selection.log = log
    selection.started = time.perf_counter() - wall_before
    return log


def _clone(net: torch.nn.Module) -> torch.nn.Module:
    import copy

    return copy.deepcopy(net)
