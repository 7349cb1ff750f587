"""Run several benchmark grids as one queue of cells on one pool of workers, within a time limit.

`il-datasets benchmark` runs one grid (methods x envs x demos x seeds). On a bigger machine
lent for a short time (16 cores for ten minutes, say) one grid rarely fills every core to the
end: this script takes several grids, in the order given, and runs their missing cells on one
pool, so a core that finishes a cell of the first grid takes the next cell of any. At
`--stop-after` seconds it stops: finished cells are kept, unfinished ones are dropped unwritten
(they show as not run), and the folder's report is rewritten with this invocation recorded in
it, like `il-datasets benchmark` does. Every cell's numbers are the same as from
`il-datasets benchmark` (same protocol, same cell code).

A grid is METHODS/ENVS/DEMOS/SEEDS: comma-separated methods and envs (or families), DEMOS a
comma-separated list of demonstration counts or `-` for the protocol's count, SEEDS `N` or
`FIRST-LAST`. For example, on 16 cores:

    python benchmarks/cell_queue.py --out results_mujoco --workers 16 --stop-after 480 \\
        gail/ant/25,1/0-2 bc,dagger/hopper,cheetah,walker,ant,swimmer/25/1-4

`--budget-scale K` and `--set JSON` make every grid of the queue a budget or config probe, as
`il-datasets benchmark`'s options of those names do (use the probe's own `--out`):

    python benchmarks/cell_queue.py --out results_mujoco/probes/x2 --budget-scale 2 \\
        bc/hopper,walker/25/0-2 dagger/hopper,cheetah,walker/25/0-2
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from pathlib import Path

from imitation_datasets.benchmark.options import parse_config_overrides
from imitation_datasets.benchmark.results_lock import results_writer
from imitation_datasets.benchmark.runner import GridPlan, plan_grid, run_cells
from imitation_datasets.cli.benchmark import write_run_report
from imitation_datasets.core.errors import ConfigError, ImitationDatasetsError


def parse_grid(text: str) -> dict:
    """`METHODS/ENVS/DEMOS/SEEDS` as plan_grid's arguments."""
    parts = text.split("/")
    if len(parts) != 4 or not all(parts):
        raise argparse.ArgumentTypeError(f"grid {text!r}: expected METHODS/ENVS/DEMOS/SEEDS")
    methods, envs, demos, seeds = parts
    try:
        counts = () if demos == "-" else tuple(int(d) for d in demos.split(","))
        first, _, last = seeds.partition("-")
        first_seed, last_seed = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"grid {text!r}: DEMOS must be integers or -, SEEDS N or FIRST-LAST") from None
    if last_seed < first_seed:
        raise argparse.ArgumentTypeError(f"grid {text!r}: seeds {seeds} run backwards")
    return {"methods": methods.split(","), "envs": envs.split(","), "demos": counts,
            "first_seed": first_seed, "seeds": last_seed - first_seed + 1}


def positive(text: str) -> float:
    """A number > 0 (``--budget-scale``)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def config_fields(text: str) -> dict:
    """``--set``'s JSON object of config fields."""
    try:
        return parse_config_overrides(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("grids", nargs="+", type=parse_grid, metavar="GRID",
                        help="METHODS/ENVS/DEMOS/SEEDS, in the order their cells should run")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument("--data", type=Path, default=Path("benchmark_data"),
                        help="dataset cache (default: benchmark_data)")
    parser.add_argument("--workers", type=int, default=2, help="cells run in parallel")
    parser.add_argument("--stop-after", type=float, default=None,
                        help="seconds after which unfinished cells are dropped (default: none)")
    parser.add_argument("--budget-scale", type=positive, default=1.0,
                        help="a budget probe: every method's training budget times this "
                             "(default: 1, the protocol)")
    parser.add_argument("--set", type=config_fields, default=None, dest="overrides",
                        help="a config probe: config fields set for every method, as a JSON "
                             "object (default: none, the protocol)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        with results_writer(args.out):
            return run_queue(args, argv)
    except ImitationDatasetsError as exc:  # busy folder, a stale cell, data that differ...
        print(f"cell_queue.py: {exc}", file=sys.stderr)
        return 2


def run_queue(args: argparse.Namespace, argv: list[str]) -> int:
    """Plan every grid, run the cells left within the time limit, rewrite the report."""
    started = time.perf_counter()
    plan = GridPlan([], [], {})
    for grid in args.grids:
        plan = plan + plan_grid(out=args.out, data_dir=args.data, workers=args.workers,
                                budget_scale=args.budget_scale, overrides=args.overrides,
                                **grid)
    print(f"{len(plan.todo)} of {len(plan.cells)} cells to run on {args.workers} workers",
          flush=True)
    stop_after = None  # the time limit counts from the start, data and planning included
    if args.stop_after is not None:
        stop_after = max(args.stop_after - (time.perf_counter() - started), 1.0)
    left = run_cells(plan, args.out, args.data, args.workers, progress=False,
                     stop_after=stop_after)
    command = "python benchmarks/cell_queue.py " + " ".join(shlex.quote(a) for a in argv)
    path = write_run_report(args.out, command, started, len(plan.todo) - left, len(plan.cells),
                            args.workers)
    print(f"{len(plan.todo) - left} cells run, {left} left unfinished; report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
