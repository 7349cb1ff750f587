"""What an online cell of the continuous grid would cost: a pilot of each online method.

Usage: ``python benchmarks/online_pilot.py [--env hopper] [--steps 20000] [--methods ...]``.
Each method trains with its continuous-grid config for ``--steps`` environment steps only (the
rest of its config unchanged except: validation off, off-policy learning after the same share
of random steps as the cell's) on the protocol's 25-demonstration task, one
thread; the script prints training seconds per 1000 environment steps and the minutes a full
cell's budget would take at that rate (validation and test episodes not included, so a full
cell costs somewhat more). The pilot runs with the kernels cells train with (it restarts
itself with :data:`~imitation_datasets.benchmark.reproducible.CELL_ENVIRONMENT` when started
without it): before 2026-11-30 it ran with torch's own kernels, which made the soft-Q methods'
256-wide updates look about 2 x cheaper than a cell's. The pilot's numbers are not benchmark
results and are not written anywhere. On a shared machine the rates overstate what a free core
needs (the load average is printed).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time

import torch

from imitation_datasets.benchmark.cells import dataset_threshold
from imitation_datasets.benchmark.method_specs import method_spec
from imitation_datasets.benchmark.protocol import prepare
from imitation_datasets.benchmark.reproducible import CELL_ENVIRONMENT, check_cell_process
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.seeding import BENCHMARK_VALIDATION_SEED_START
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import TrainingTask

BUDGET_FIELDS = ("total_steps", "steps")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="hopper")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--methods", default="gail,gaifo,airl,sqil,iq_learn_online")
    parser.add_argument("--data", default="benchmark_data")
    args = parser.parse_args()
    if any(os.environ.get(k) != v for k, v in CELL_ENVIRONMENT.items()):
        # the kernels are chosen when torch loads: start again with the cells' environment
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **CELL_ENVIRONMENT})
    check_cell_process()
    torch.set_num_threads(1)
    splits = prepare(args.env, args.data, workers=1)
    p = splits.protocol
    env = make_env(p.env_id, p.env_kwargs)
    task = TrainingTask(env_id=p.env_id, env_kwargs=p.env_kwargs, expert=splits.training(25),
                        random=splits.random, validation_seeds=[BENCHMARK_VALIDATION_SEED_START],
                        expert_return=splits.expert_return, random_return=0.0,
                        success_threshold=float(dataset_threshold(splits)),
                        expert_policy=Experts.get_expert(p.expert))
    print(f"{p.env_id}, {args.steps} environment steps per method, load average "
          f"{os.getloadavg()[0]:.1f}")
    for name in args.methods.split(","):
        full = method_spec(name).config(p.env_id)
        budget_field = next(f for f in BUDGET_FIELDS if hasattr(full, f))
        budget = getattr(full, budget_field)
        changes = {budget_field: args.steps, "eval_every": 10**6}
        if hasattr(full, "learning_starts"):  # the cell's share of random steps (cheap ones)
            changes["learning_starts"] = max(1, round(full.learning_starts * args.steps / budget))
        pilot = dataclasses.replace(full, **changes)
        method = method_spec(name).method_class()(env.observation_space, env.action_space,
                                                  config=pilot, seed=0)
        started = time.perf_counter()
        method.fit(task)
        seconds = time.perf_counter() - started
        per_k = seconds / method.env_steps * 1000
        print(f"{name:16} {per_k:6.2f} s per 1k steps; the cell's {budget:,} steps: "
              f"{per_k * budget / 1000 / 60:6.1f} min")


if __name__ == "__main__":
    main()
