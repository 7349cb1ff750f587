"""A planned grid's cost: cells x minutes per method, from the cells measured so far.

Usage: ``python benchmarks/grid_plan.py [FAMILY ...] [--results DIR ...]`` (default: the
classic family from ``results``; ``mujoco box2d --results results_continuous`` for issue 15's
grid). The grids are those of :mod:`imitation_datasets.benchmark.plan`. For every (env,
method) it takes the median cell time (train + test, one core) of the finished cells at each
demonstration count (or, for a count not yet run, of that pair's cells at any count: the
online methods' cost depends on their step budget; the offline ones' epochs repeat fewer
demonstrations to the full set's gradient steps), multiplies by the planned cells, and prints
the total per method, what is done, and the projected wall time on N cores (cells are
single-threaded and independent). Pairs with no measured cell are listed as unmeasured and
left out of the totals. A cell's time is its CPU seconds (``train_cpu_seconds`` +
``test_cpu_seconds``, what it costs a free core) where the cell recorded them, and its wall
seconds otherwise (cells made before CPU time was recorded); wall times measured while other
jobs shared the cores overstate what a free core needs. Where a pair has CPU-timed cells, only
those are used; the last line says how many cells were timed each way.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

from imitation_datasets.benchmark.plan import grids, planned_cells
from imitation_datasets.benchmark.protocol import env_protocol


def measured(folders: list[Path]) -> tuple[dict[tuple[str, str, int], list[float]],
                                            set[tuple[str, str, int, int]], dict[str, int]]:
    """Cell seconds (train + test; CPU seconds where a pair has CPU-timed cells, wall seconds
    otherwise) by (env, method, demos), the finished cells ``(env, method, demos, seed)``, and
    how many cells were timed by CPU and by wall seconds, over every cell file in ``folders``."""
    timed: dict[str, dict[tuple[str, str, int], list[float]]] = {
        "cpu": defaultdict(list), "wall": defaultdict(list)}
    done = set()
    for folder in folders:
        for path in (folder / "cells").rglob("seed*.json"):
            cell = json.loads(path.read_text())
            demos = int(cell.get("demos") or env_protocol(cell["env"]).train_episodes)
            key = (cell["env"], cell["method"], demos)
            if "train_cpu_seconds" in cell:
                timed["cpu"][key].append(cell["train_cpu_seconds"] + cell["test_cpu_seconds"])
            timed["wall"][key].append(cell["train_seconds"] + cell["test_seconds"])
            done.add((cell["env"], cell["method"], demos, int(cell["seed"])))
    seconds = {key: timed["cpu"].get(key) or wall for key, wall in timed["wall"].items()}
    counts = {"cpu": sum(map(len, timed["cpu"].values())),
              "wall": sum(len(wall) for key, wall in timed["wall"].items()
                          if key not in timed["cpu"])}
    return seconds, done, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=["classic"],
                        help=f"grids to plan: {', '.join(grids())}")
    parser.add_argument("--results", nargs="*", type=Path, default=[Path("results")])
    args = parser.parse_args()
    unknown = [f for f in args.families if f not in grids()]
    if unknown:
        parser.error(f"unknown family {unknown[0]!r}; known: {', '.join(grids())}")
    seconds, done, counts = measured(args.results)
    print(f"{'method':18} {'cells':>6} {'done':>6} {'cell-min':>9} {'left-min':>9}  unmeasured")
    total = left = 0.0
    by_method: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
    for cell in planned_cells(args.families):
        by_method[cell[0]].append(cell)
    for method, cells in by_method.items():
        minutes = remaining = 0.0
        finished = 0
        unmeasured: set[str] = set()
        for _, env, demos, seed in cells:
            times = seconds.get((env, method, demos)) or [
                t for (e, m, _), ts in seconds.items() if (e, m) == (env, method) for t in ts]
            if not times:
                unmeasured.add(env)
                continue
            cell_min = statistics.median(times) / 60
            minutes += cell_min
            if (env, method, demos, seed) in done:
                finished += 1
            else:
                remaining += cell_min
        total += minutes
        left += remaining
        print(f"{method:18} {len(cells):6d} {finished:6d} {minutes:9.1f} {remaining:9.1f}  "
              f"{', '.join(sorted(unmeasured)) or '-'}")
    print(f"{'all (measured)':18} {'':6} {'':6} {total:9.1f} {left:9.1f}")
    for cores in (2, 16):
        print(f"projected wall time on {cores} free cores: measured part of the grid "
              f"{total / cores / 60:.1f} h, what is left of it {left / cores / 60:.1f} h")
    print(f"cell times from {counts['cpu']} cells' CPU seconds and {counts['wall']} cells' wall "
          "seconds (measured under load: an overstatement)")


if __name__ == "__main__":
    main()
