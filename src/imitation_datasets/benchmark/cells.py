"""One benchmark cell (method × env × training seed) and its execution.

A cell trains one method on one environment's training episodes with one seed, selects its
model on validation seeds, and is tested on the protocol's test seeds; :func:`run_cell` writes
the result to ``<out>/cells/`` and returns it. A resumable method (the soft-Q family) saves its
run to ``<out>/.resume/`` every few minutes as it trains (:mod:`imitation_datasets.methods.resume`),
so a cell that was stopped (a killed worker, ``--stop-after``, a session that ended) goes on
from there when it runs again, with the same result as an uninterrupted run; the state is
removed once the cell's result is written. Both the local runner
(:mod:`imitation_datasets.benchmark.runner`) and the Ray runner
(:mod:`imitation_datasets.benchmark.ray_runner`) call it, so both give the same results.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from imitation_datasets.benchmark.method_specs import MethodSpec
from imitation_datasets.benchmark.protocol import Splits, prepare
from imitation_datasets.benchmark.reproducible import (
    ARITHMETIC,
    check_cell_process,
    torch_version,
)
from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.metrics import accuracy, performance
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.safe_paths import check_inside
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import Method, TrainingTask
from imitation_datasets.methods.training_state import TrainingStateError

logger = logging.getLogger(__name__)


class ResultsFolderError(OneLineError, ValueError):
    """A results folder's own sub-folders lead elsewhere (a symlink)."""


@dataclass(frozen=True)
class Cell:
    """One (method, env, seed) run on ``demos`` demonstration episodes.

    ``demos=None`` means the protocol's ``train_episodes`` (the published table); other counts
    are the sample-efficiency curves and are stored one folder further down. ``target`` is
    where a user's method class lives; shipped methods have none.
    """

    method: str
    env: str
    seed: int
    demos: int | None = None
    target: str | None = None  # a user's method: "module:Class" (see method_specs)
    budget_scale: float = 1.0  # 1: the protocol; else a budget probe (MethodSpec.budget_scale)
    overrides: str = ""  # "": the protocol; else a config probe (MethodSpec.overrides)

    @property
    def spec(self) -> MethodSpec:
        """The cell's method."""
        return MethodSpec(self.method, self.target, self.budget_scale, self.overrides)

    def path(self, out: Path) -> Path:
        """Where the cell's result is stored."""
        folder = out / "cells" / self.env / self.method
        if self.demos is not None:
            folder = folder / f"demos{self.demos}"
        return folder / f"seed{self.seed}.json"

    def state_path(self, out: Path) -> Path:
        """Where a resumable method's run is saved while the cell trains."""
        relative = self.path(out).relative_to(out / "cells").with_suffix(".safetensors")
        return out / ".resume" / relative


def check_folders(paths: list[Path], out: Path) -> None:
    """Refuse paths whose nearest existing folder (links followed) lies outside ``out``.

    Raises:
        ResultsFolderError: a folder on the way (``cells/``, ``.resume/``, an env's folder) is
            a link that leads outside ``out``.
    """
    for path in dict.fromkeys(p.parent for p in paths):
        existing = next(f for f in (path, *path.parents) if f.exists() or f == out
                        or not f.parts)
        check_inside(existing, out, source=f"results folder {out}", error=ResultsFolderError)


def run_cell(cell: Cell, data_dir: str, out_dir: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Train, select and test one cell; write and return its result (runs in a worker).

    The method gets its typed config for the cell's environment (``load_config``), which the
    result records as a mapping.
    """
    check_cell_process()
    torch.set_num_threads(1)
    splits = prepare(cell.env, data_dir)
    p = splits.protocol
    space_env = make_env(p.env_id, p.env_kwargs)
    spaces = space_env.observation_space, space_env.action_space
    space_env.close()
    method = cell.spec.build(*spaces, p.env_id, cell.seed)
    expert = splits.training(cell.demos)
    task = TrainingTask(
        env_id=p.env_id,
        env_kwargs=p.env_kwargs,
        expert=expert,
        demo_repeats=demo_repeats(int(splits.dataset[0].lengths[:p.train_episodes].sum()),
                                  len(expert.obs)),
        random=splits.random,
        validation_seeds=splits.validation_seeds,
        expert_return=facts["expert_return"],
        random_return=facts["random_validation_return"],
        success_threshold=float(dataset_threshold(splits)),
        interaction_seed=1_000 + cell.seed,
        expert_policy=Experts.get_expert(p.expert),  # queried by DAgger only
    )
    out = Path(out_dir)
    path = cell.path(out)
    state = cell.state_path(out) if isinstance(method, Method) and method.resumable else None
    check_folders([path] if state is None else [path, state], out)  # folders made later: inside
    if state is not None:  # a save the last run was killed in the middle of (one cell, one writer)
        for partial in state.parent.glob(f".{state.name}.*.tmp"):
            partial.unlink(missing_ok=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        log = method.fit(task) if state is None else method.fit(task, resume=state)
    except TrainingStateError as exc:  # a state this cell cannot use: start it afresh
        assert state is not None
        logger.warning("%s; the cell starts afresh", exc)
        state.unlink(missing_ok=True)
        method = cell.spec.build(*spaces, p.env_id, cell.seed)
        log = method.fit(task, resume=state)
    trained, cpu_trained = time.perf_counter(), time.process_time()
    resumed = method.resumed if isinstance(method, Method) else None
    before = resumed or {"wall_seconds": 0.0, "cpu_seconds": 0.0}
    log_record = log.to_dict() if callable(getattr(log, "to_dict", None)) else {}
    returns = evaluate_policy(method, p.env_id, splits.test_seeds, p.env_kwargs)
    held_out = splits.held_out
    discrete = np.issubdtype(held_out.actions.dtype, np.integer)
    result = {
        "method": cell.method,
        **({"method_target": cell.target} if cell.target is not None else {}),
        "env": cell.env,
        "env_id": p.env_id,
        "seed": cell.seed,
        "demos": p.training_episodes(cell.demos),
        "demo_repeats": task.demo_repeats,
        **({"budget_scale": cell.budget_scale} if cell.budget_scale != 1 else {}),
        **({"config_overrides": json.loads(cell.overrides)} if cell.overrides else {}),
        "test_returns": returns.tolist(),
        "aer": float(returns.mean()),
        "aer_std": float(returns.std()),
        "performance": performance(float(returns.mean()), facts["random_return"],
                                   facts["expert_return"]),
        "accuracy": accuracy(method.predict(held_out.obs), held_out.actions)
        if discrete else None,
        "action_mse": None if discrete else float(np.mean(
            (method.predict(held_out.obs) - held_out.actions) ** 2)),
        "env_steps": int(log_record.get("env_steps") or 0),
        "train_seconds": before["wall_seconds"] + trained - started,
        "test_seconds": time.perf_counter() - trained,
        # CPU seconds of this single-threaded process: what the cell costs a free core, unlike
        # wall time, which grows with whatever else shares the cores
        "train_cpu_seconds": before["cpu_seconds"] + cpu_trained - cpu_started,
        "test_cpu_seconds": time.process_time() - cpu_trained,
        "config": cell.spec.config_mapping(p.env_id),
        "torch_version": torch_version(),
        "arithmetic": ARITHMETIC,
        **({"resumed": resumed["times"]} if resumed else {}),
        "log": log_record,
    }
    path.parent.mkdir(parents=True, exist_ok=True)  # only now: a stopped cell leaves nothing
    atomic_write_text(path, json.dumps(result, indent=1))
    if state is not None:
        state.unlink(missing_ok=True)
    return result


def demo_repeats(full: int, used: int) -> int:
    """Passes over ``used`` demonstration transitions per epoch: ``round(full / used)``, >= 1.

    Part of the protocol: a sample-efficiency point on fewer demonstrations trains its
    epoch-based methods (BC, DAgger's first phase, the BCO family's cloning) for about as many
    gradient steps as the protocol's full training set of ``full`` transitions.
    """
    return max(1, round(full / max(used, 1)))


def dataset_threshold(splits: Splits) -> float:
    """Return counting as a success for ABCO/IUPE: the dataset's acceptance threshold."""
    value = splits.dataset[1]["collection"]["threshold"]
    return float(value)
