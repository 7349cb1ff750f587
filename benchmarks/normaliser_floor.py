"""Diagnostic, not the protocol: does the observation normaliser's std floor explain a miss?

The methods normalise observations by ``clip((x - mean) / std, -10, 10)`` with ``std`` floored at
1e-6 (``methods/networks.py``). InvertedDoublePendulum's observations have a constant column
(the constraint force, always 0 in the expert's data) and two with std 2e-4 and 1e-3 (the
cosines), so a learner drifting off the expert's states feeds saturated inputs. This script
trains one benchmark cell (the protocol's data, splits, seeds, config) with other floors and
prints the test performance and the validation curve for each, in a worker started the way the
runner starts one (CPU-independent kernels, one thread).

``--saturation ENV ...`` trains nothing: for each env it fits the protocol's normaliser to the
expert's training states (``--demos`` episodes) and prints how many features of the
random-policy dataset's states (the protocol's random data) land on the ``±10`` clip, overall and
in the worst columns, and the expert's smallest non-constant std: how far off the expert's states
the normalisation stops telling states apart.

Usage::

    python benchmarks/normaliser_floor.py [--method bc] [--env inverteddoublependulum]
        [--demos 25] [--floors 1e-6 1e-2 1e-1] [--data benchmark_data] [--results results_mujoco]
    python benchmarks/normaliser_floor.py --saturation invertedpendulum swimmer [--demos 25]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from typing import Any

import torch


def run(method: str, env: str, demos: int, floor: float, data: str, results: str) -> dict[str, Any]:
    """One cell trained with the normaliser's std floored at ``floor`` (runs in a worker)."""
    from imitation_datasets.benchmark.cells import Cell, run_cell
    from imitation_datasets.benchmark.runner import facts_path
    from imitation_datasets.methods.networks import Normaliser

    def fit(self: Normaliser, x: torch.Tensor) -> None:
        x = x.double()
        self.mean.copy_(x.mean(0).float())
        self.std.copy_(x.std(0, correction=0).clamp_min(floor).float())

    Normaliser.fit = fit  # type: ignore[method-assign]
    facts = json.loads(facts_path(results, env).read_text())
    return run_cell(Cell(method, env, 0, demos), data, tempfile.mkdtemp(), facts)


def saturation(env: str, demos: int, data: str) -> str:
    """One line: the share of the random states' features the expert-fitted normaliser clips."""
    from imitation_datasets.benchmark.protocol import prepare
    from imitation_datasets.methods.networks import NORMALISED_CLIP, Normaliser

    splits = prepare(env, data)
    expert = torch.as_tensor(splits.training(demos).obs, dtype=torch.float32).flatten(1)
    states = torch.as_tensor(splits.random.obs, dtype=torch.float32).flatten(1)
    normaliser = Normaliser(expert.shape[1])
    normaliser.fit(expert)
    with torch.no_grad():
        clipped = (normaliser(states).abs() >= NORMALISED_CLIP).double()
    worst = clipped.mean(0).sort(descending=True).values[:3].tolist()
    varying = normaliser.std[normaliser.std > 1e-6]  # constant columns are floored, not small
    smallest = f"{float(varying.min()):.2g}" if len(varying) else "none"
    return (f"{env:24s} {float(clipped.mean()):5.2f} of the random states' features clipped "
            f"(worst columns {', '.join(f'{w:.2f}' for w in worst)}; smallest expert std "
            f"{smallest})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="bc")
    parser.add_argument("--env", default="inverteddoublependulum")
    parser.add_argument("--demos", type=int, default=25)
    parser.add_argument("--floors", type=float, nargs="+", default=[1e-6, 1e-2, 1e-1])
    parser.add_argument("--data", default="benchmark_data")
    parser.add_argument("--results", default="results_mujoco",
                        help="results folder holding the environment's facts (envs/ENV.json)")
    parser.add_argument("--saturation", nargs="+", metavar="ENV",
                        help="train nothing: print how much of each env's random states the "
                        "expert-fitted normaliser clips")
    args = parser.parse_args()
    if args.saturation:
        for env in args.saturation:
            print(saturation(env, args.demos, args.data))
        return
    from imitation_datasets.benchmark.reproducible import cell_environment
    from imitation_datasets.benchmark.runner import cell_pool

    for floor in args.floors:
        with cell_environment(), cell_pool(1) as pool:
            cell = pool.submit(run, args.method, args.env, args.demos, floor, args.data,
                               args.results).result()
        curve = [round(r["validation_performance"], 3) for r in cell["log"]["records"]]
        print(f"{args.method} {args.env} {args.demos} demos, std floor {floor:g}: "
              f"performance {cell['performance']:.3f}, validation {curve}")


if __name__ == "__main__":
    main()
