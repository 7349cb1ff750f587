"""A planned grid's cost: cells x minutes per method, from the cells measured so far.

Usage: ``python benchmarks/grid_plan.py [FAMILY ...] [--results DIR ...]`` (default: the
classic family from ``results``; ``mujoco box2d --results results_mujoco results_box2d`` for
issue 15's grid). The grids are those of :mod:`imitation_datasets.benchmark.plan`. Each planned
cell costs the median time (train + test, one core) of the finished cells that best stand for
it, in this order:

1. CPU seconds (``train_cpu_seconds`` + ``test_cpu_seconds``, what the cell costs a free core)
   of the same (env, method, demonstration count);
2. CPU seconds of the same (env, method) at another count: the largest of those counts'
   medians. A cell's cost hardly depends on the count (the online methods spend their step
   budget, the offline ones repeat fewer demonstrations to the full set's gradient steps); the
   largest keeps the estimate on the safe side (100-demonstration cells cost up to about 1.3 x
   1-demonstration ones);
3. wall seconds of the same (env, method, count), from cells made before CPU time was recorded
   (measured while other jobs shared the cores: an overstatement);
4. wall seconds of the same (env, method) at another count (the largest median).

Pairs with no measured cell are listed as unmeasured and left out of the measured totals. They
are projected apart (a second total, never mixed with the measured one): the method's median CPU
seconds per unit of its training budget (its config's ``budget_fields``: environment steps for
the online methods, epochs, iterations or gradient steps for the offline ones) over its
CPU-timed cells on the other envs, times the pair's own budget (``load_config(method, env)``).
A rough figure: a step of a MuJoCo env and of a small classic or pendulum env cost differently,
and episode lengths change what validation costs. It prints the total per method, what is
done, the projected wall time on N cores (cells are single-threaded and independent), and how
many planned cells were costed each way.
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from imitation_datasets.benchmark.plan import grids, planned_cells
from imitation_datasets.benchmark.protocol import env_protocol
from imitation_datasets.benchmark.runner import cell_files, read_cell
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.methods.registry import load_config

Timings = dict[tuple[str, str, int], list[float]]
SOURCES = ("cpu", "cpu, other count", "wall", "wall, other count")


@functools.cache
def budget(method: str, env: str) -> int:
    """The protocol's training budget of ``method`` on ``env``: its budget fields multiplied."""
    config = load_config(method, env_protocol(env).env_id)
    return math.prod(getattr(config, name) for name in type(config).budget_fields)


def measured(folders: list[Path]) -> tuple[dict[str, Timings], set[tuple[str, str, int, int]]]:
    """Cell seconds by (env, method, demos), CPU-timed and wall-timed, and the finished cells
    ``(env, method, demos, seed)``, over every cell file in ``folders``."""
    timed: dict[str, Timings] = {"cpu": defaultdict(list), "wall": defaultdict(list)}
    done = set()
    for folder in folders:
        for path in cell_files(folder):
            cell = read_cell(path)
            demos = int(cell.get("demos") or env_protocol(cell["env"]).train_episodes)
            key = (cell["env"], cell["method"], demos)
            if cell.get("train_cpu_seconds") is not None:
                timed["cpu"][key].append(cell["train_cpu_seconds"]
                                         + (cell.get("test_cpu_seconds") or 0.0))
            else:
                timed["wall"][key].append(cell["train_seconds"] + (cell.get("test_seconds") or 0.0))
            done.add((cell["env"], cell["method"], demos, int(cell["seed"])))
    return timed, done


def estimate(timed: dict[str, Timings], env: str, method: str, demos: int
             ) -> tuple[float, str] | None:
    """A planned cell's seconds and which source gave them (module docstring); ``None``: no
    cell of the pair has run."""
    for kind in ("cpu", "wall"):
        if timed[kind].get((env, method, demos)):
            return statistics.median(timed[kind][(env, method, demos)]), kind
        others = [statistics.median(ts) for (e, m, _), ts in timed[kind].items()
                  if (e, m) == (env, method) and ts]
        if others:
            return max(others), f"{kind}, other count"
    return None


def projected(timed: dict[str, Timings], env: str, method: str) -> float | None:
    """An unmeasured pair's seconds per cell, projected from the method's other envs (module
    docstring); ``None``: no CPU-timed cell of the method at all."""
    rates = [seconds / budget(method, e) for (e, m, _), ts in timed["cpu"].items() if m == method
             for seconds in ts]
    return statistics.median(rates) * budget(method, env) if rates else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=["classic"],
                        help=f"grids to plan: {', '.join(grids())}")
    parser.add_argument("--results", nargs="*", type=Path, default=[Path("results")])
    args = parser.parse_args()
    unknown = [f for f in args.families if f not in grids()]
    if unknown:
        parser.error(f"unknown family {unknown[0]!r}; known: {', '.join(grids())}")
    try:
        timed, done = measured(args.results)
    except ImitationDatasetsError as exc:  # a cell file that is not JSON or lacks a field
        print(f"grid_plan.py: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"{'method':18} {'cells':>6} {'done':>6} {'cell-min':>9} {'left-min':>9}  unmeasured")
    total = left = guessed = 0.0
    unprojected = pairs = 0
    sources: dict[str, int] = dict.fromkeys(SOURCES, 0)
    by_method: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
    for cell in planned_cells(args.families):
        by_method[cell[0]].append(cell)
    for method, cells in by_method.items():
        minutes = remaining = 0.0
        finished = 0
        unmeasured: set[str] = set()
        guess = 0.0
        for _, env, demos, seed in cells:
            found = estimate(timed, env, method, demos)
            if found is None:
                unmeasured.add(env)
                seconds = projected(timed, env, method)
                guess += (seconds or 0.0) / 60
                unprojected += seconds is None
                continue
            cell_min = found[0] / 60
            sources[found[1]] += 1
            minutes += cell_min
            if (env, method, demos, seed) in done:
                finished += 1
            else:
                remaining += cell_min
        total += minutes
        left += remaining
        guessed += guess
        pairs += len(unmeasured)
        print(f"{method:18} {len(cells):6d} {finished:6d} {minutes:9.1f} {remaining:9.1f}  "
              f"{', '.join(sorted(unmeasured)) or '-'}"
              + (f" (projected {guess:.0f} min)" if unmeasured and guess else "")
              + (" (no CPU-timed cell to project from)" if unmeasured and not guess else ""))
    print(f"{'all (measured)':18} {'':6} {'':6} {total:9.1f} {left:9.1f}")
    for cores in (2, 16):
        print(f"projected wall time on {cores} free cores: measured part of the grid "
              f"{total / cores / 60:.1f} h, what is left of it {left / cores / 60:.1f} h; "
              f"{pairs} unmeasured pairs (projected from their methods' other envs) "
              f"{guessed / cores / 60:.1f} h more")
    if unprojected:
        print(f"{unprojected} planned cells of methods with no CPU-timed cell are in neither total")
    print("planned cells costed from: " + ", ".join(f"{sources[k]} {k}" for k in SOURCES)
          + " (wall seconds were measured under load: an overstatement)")


if __name__ == "__main__":
    main()
