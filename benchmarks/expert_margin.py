"""Diagnostic, not the protocol: how much action error does the curated expert itself survive?

A clone's actions differ from its teacher's by some small error; on a task with a thin
stability margin that error alone can make episodes fail. This script plays the curated expert
on the protocol's test seeds with an error added to every action, of a size given as a
fraction of the action range's half-width, then clipped to the bounds: seeded Gaussian noise
(``--kind gauss``: independent errors) or a constant offset (``--kind bias``: a systematic
error, the same sign every step). It prints the performance at each size, beside the action
RMSE of the benchmark cells of that env (``action_mse`` of each finished cell, on the held-out
expert states). If the expert falls at the error size that the clones' errors reach, the
clones' failure is the task's margin, not their training.

``--kind linear`` asks the converse: is what the clones need in the data? It fits an affine
policy ``a = W s + b`` by least squares to the first ``--demos`` training episodes of the
protocol (steps whose action the expert clipped to a bound left out) and plays it, clipped to
the bounds, on the same test seeds. An expert that is linear in the observations (ARS's linear
policies, over their normalisation) is recovered from few demonstrations this way, so a miss of
the benchmark's MLP clones there is the policy class and its training, not the data.

Usage::

    python benchmarks/expert_margin.py [--env inverteddoublependulum] [--episodes 20]
        [--noise 0 0.003 0.01 0.03 0.1] [--kind gauss|bias|linear] [--demos 25]
        [--data benchmark_data] [--results results_mujoco]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.acting import batch_actions


class NoisyExpert:
    """The expert's actions plus an error (Gaussian or constant), clipped to the action bounds."""

    def __init__(self, expert: Any, low: np.ndarray, high: np.ndarray, fraction: float,
                 kind: str, seed: int) -> None:
        self.expert, self.low, self.high, self.kind = expert, low, high, kind
        self.scale = fraction * (high - low) / 2
        self.rng = np.random.default_rng(seed)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        action = batch_actions(self.expert, obs).astype(np.float64)
        noise = (self.rng.normal(0.0, 1.0, action.shape) if self.kind == "gauss"
                 else np.ones(action.shape)) * self.scale
        return np.clip(action + noise, self.low, self.high).astype(np.float32)


class LinearClone:
    """An affine policy fitted by least squares to demonstrations, clipped to the bounds."""

    def __init__(self, obs: np.ndarray, actions: np.ndarray, low: np.ndarray,
                 high: np.ndarray) -> None:
        y = actions.reshape(len(actions), -1).astype(np.float64)
        inside = np.all((y > low) & (y < high), axis=1)
        self.weights = np.linalg.lstsq(self.features(obs[inside]), y[inside], rcond=None)[0]
        self.low, self.high = low, high
        self.fitted, self.left_out = int(inside.sum()), int((~inside).sum())

    @staticmethod
    def features(obs: np.ndarray) -> np.ndarray:
        """Rows of ``[s, 1]`` in float64."""
        x = np.asarray(obs, np.float64).reshape(len(obs), -1)
        return np.c_[x, np.ones(len(x))]

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        action = self.features(obs) @ self.weights
        return np.clip(action, self.low, self.high).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="inverteddoublependulum")
    parser.add_argument("--episodes", type=int, default=20, help="the first N test seeds")
    parser.add_argument("--noise", type=float, nargs="+", default=[0, 0.003, 0.01, 0.03, 0.1])
    parser.add_argument("--kind", choices=("gauss", "bias", "linear"), default="gauss")
    parser.add_argument("--demos", type=int, default=25,
                        help="--kind linear: training episodes the clone is fitted to")
    parser.add_argument("--data", default="benchmark_data")
    parser.add_argument("--results", default="results_mujoco")
    args = parser.parse_args()

    import gymnasium as gym

    from imitation_datasets.benchmark.protocol import prepare
    from imitation_datasets.benchmark.runner import facts_path
    from imitation_datasets.core.evaluation import evaluate_policy
    from imitation_datasets.core.metrics import performance
    from imitation_datasets.experts import Experts

    splits = prepare(args.env, args.data)
    p = splits.protocol
    facts = json.loads(facts_path(args.results, args.env).read_text())
    space = gym.make(p.env_id, **p.env_kwargs).action_space
    if not isinstance(space, gym.spaces.Box):
        parser.error(f"--env {args.env}: needs continuous actions, got {space}")
    expert = Experts.get_expert(p.expert)
    seeds = splits.test_seeds[:args.episodes]

    def play(policy: Any) -> str:
        returns = evaluate_policy(policy, p.env_id, seeds, p.env_kwargs, n_envs=1)
        perf = performance(float(returns.mean()), facts["random_return"], facts["expert_return"])
        return f"performance {perf:.3f}  (AER {returns.mean():.1f}, min {returns.min():.1f})"

    if args.kind == "linear":
        demos = splits.training(args.demos)
        clone = LinearClone(demos.obs, demos.actions, space.low, space.high)
        print(f"{p.env_id}: a least-squares affine clone of the first {args.demos} training "
              f"episodes ({clone.fitted} steps fitted, {clone.left_out} with a clipped action "
              f"left out) on the first {len(seeds)} test seeds:")
        held_out = splits.held_out
        mse = float(np.mean((clone.predict(held_out.obs).reshape(held_out.actions.shape)
                             - held_out.actions) ** 2))
        print(f"  linear clone {play(clone)}; action MSE on the held-out expert states "
              f"{mse:.2e} (the cells' action_mse)")
        print(f"  the expert   {play(expert)}")
    else:
        what = ("Gaussian action noise (std" if args.kind == "gauss"
                else "a constant action offset (size")
        print(f"{p.env_id}: curated expert on the first {len(seeds)} test seeds, {what} as a "
              "fraction of the action half-range)")
        for fraction in args.noise:
            policy = NoisyExpert(expert, space.low, space.high, fraction, args.kind, seed=0)
            print(f"  noise {fraction:<6g} {play(policy)}")
    half = float(np.mean((space.high - space.low) / 2))
    for path in sorted(Path(args.results, "cells", args.env).rglob("seed*.json")):
        cell = json.loads(path.read_text())
        if cell.get("action_mse") is not None:
            rmse = float(np.sqrt(cell["action_mse"]))
            print(f"  {cell['method']} ({path.parent.name}, {path.stem}): action RMSE {rmse:.4f}"
                  f" = {rmse / half:.4f} of the half-range, performance "
                  f"{cell['performance']:.3f}")


if __name__ == "__main__":
    main()
