"""The classic grid's plan: cells x minutes per method, from the cells measured so far.

Usage: ``python benchmarks/grid_plan.py [RESULTS_DIR]`` (default ``results``). For every
(env, method) it takes the mean cell time (train + test, one core) of the finished cells at
each demonstration count (or, for a count not yet run, of the cells at 100 demonstrations: the
online methods' cost depends on their step budget, not on the demonstrations), multiplies by
the cells ``benchmarks/classic_grid.sh`` runs, and prints the total per method, what is done,
and the projected wall time on N cores (cells are single-threaded and independent). Cell
times measured while other jobs shared the cores overstate what a free core needs.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

METHODS = ("bc", "bco", "abco", "iupe", "dagger", "gail", "gaifo", "airl", "sqil",
           "iq_learn_offline", "iq_learn_online")
TABLE_ENVS = ("cartpole", "acrobot", "mountaincar", "lunarlander", "pendulum",
              "mountaincarcontinuous")
CURVE_ENVS = ("cartpole", "acrobot", "lunarlander", "pendulum")
SEEDS = 5
DEMOS = 100
CURVE_DEMOS = (1, 5, 10, 25)


def main() -> None:
    results = Path(sys.argv[1] if len(sys.argv) > 1 else "results")
    seconds: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for path in (results / "cells").rglob("seed*.json"):
        cell = json.loads(path.read_text())
        key = (cell["env"], cell["method"], int(cell.get("demos") or DEMOS))
        seconds[key].append(cell["train_seconds"] + cell["test_seconds"])
    planned = [(env, m, DEMOS) for env in TABLE_ENVS for m in METHODS]
    planned += [(env, m, n) for env in CURVE_ENVS for m in METHODS for n in CURVE_DEMOS]
    print(f"{'method':18} {'cells':>6} {'done':>6} {'cell-min':>9} {'left-min':>9}  unmeasured")
    total = left = 0.0
    for method in METHODS:
        cells = done = 0
        minutes = remaining = 0.0
        unmeasured = []
        for env, m, n in planned:
            if m != method:
                continue
            times = seconds.get((env, m, n)) or seconds.get((env, m, DEMOS))
            if not times:
                unmeasured.append(f"{env}/{n}")
                continue
            mean = sum(times) / len(times) / 60
            finished = len(seconds.get((env, m, n), []))
            cells += SEEDS
            done += finished
            minutes += SEEDS * mean
            remaining += max(0, SEEDS - finished) * mean
        total += minutes
        left += remaining
        print(f"{method:18} {cells:6d} {done:6d} {minutes:9.1f} {remaining:9.1f}  "
              f"{', '.join(unmeasured) or '-'}")
    print(f"{'all':18} {'':6} {'':6} {total:9.1f} {left:9.1f}")
    for part, cells in (("table (100 demos, 6 envs)", [c for c in planned if c[2] == DEMOS]),
                        ("curves (1/5/10/25 demos, 4 envs)",
                         [c for c in planned if c[2] != DEMOS])):
        minutes = sum(SEEDS * sum(t) / len(t) / 60 for c in cells
                      if (t := seconds.get(c) or seconds.get((c[0], c[1], DEMOS))))
        print(f"{part}: {minutes:.0f} cell-minutes, {minutes / 2 / 60:.1f} h on 2 free cores")
    for cores in (2, 16):
        print(f"projected wall time on {cores} free cores: whole grid {total / cores / 60:.1f} h, "
              f"what is left {left / cores / 60:.1f} h")


if __name__ == "__main__":
    main()
