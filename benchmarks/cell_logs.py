"""What the training logs of finished benchmark cells show: a diagnostic read from committed JSON.

Every online cell logs, at each validation, its method's training figures
(``log.records[*].info``: the discriminator's accuracy on both classes, the reward it gives, the
policy's entropy, the return of the training rollouts). This prints them per cell for one env,
so a README sentence about why a method fails there can be checked by anyone, without training.

Per cell: performance, the epoch of the best validation (and whether it is the first), CPU
minutes of training, the lower of the two discriminator accuracies at the first validation and,
after it, the share of validations where both are at or above ``--accuracy`` and their median;
then first/last/min/max of ``--keys``. A last line per method sums the cells up.

Usage::

    python benchmarks/cell_logs.py results_mujoco --env ant --methods gail,gaifo,airl
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from imitation_datasets.benchmark.runner import finished_results

ACCURACIES = ("disc_expert_accuracy", "disc_policy_accuracy")


def _series(records: list[dict[str, Any]], key: str) -> list[float]:
    """``key`` from every record's ``info`` that logs it, in order."""
    return [float(r["info"][key]) for r in records if key in (r.get("info") or {})]


def cell_line(cell: dict[str, Any], keys: list[str], accuracy: float) -> tuple[str, bool]:
    """One cell's figures, and whether its best validation is its first."""
    log = cell["log"]
    records = log["records"]
    first_is_best = log["best_epoch"] == records[0]["epoch"]
    parts = [f"{cell['method']:<6} demos {cell.get('demos')!s:>4} seed {cell['seed']}",
             f"performance {cell['performance']:.3f}",
             f"best epoch {log['best_epoch']}{' (the first)' if first_is_best else ''}",
             f"{cell.get('train_cpu_seconds', float('nan')) / 60:.1f} CPU-min"]
    both = [min(float(r["info"][a]) for a in ACCURACIES) for r in records
            if all(a in (r.get("info") or {}) for a in ACCURACIES)]
    if both:
        later = both[1:] or both
        share = sum(a >= accuracy for a in later) / len(later)
        parts.append(f"accuracy first {both[0]:.2f}, later >= {accuracy}: {share:.0%} "
                     f"(median {statistics.median(later):.2f})")
    for key in keys:
        values = _series(records, key)
        if values:
            parts.append(f"{key} {values[0]:.2f} -> {values[-1]:.2f} "
                         f"[{min(values):.2f}, {max(values):.2f}]")
    return "; ".join(parts), first_is_best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results folder (holding cells/)")
    parser.add_argument("--env", required=True, help="env key, e.g. ant")
    parser.add_argument("--methods", default="gail,gaifo,airl", help="comma-separated methods")
    parser.add_argument("--keys", default="disc_reward,entropy,rollout_return",
                        help="comma-separated info keys to summarise")
    parser.add_argument("--accuracy", type=float, default=0.9,
                        help="discriminator accuracy counted as telling the two apart")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    cells = [c for c in finished_results(args.results)[0]
             if c["env"] == args.env and c["method"] in methods and c["log"].get("records")]
    if not cells:
        print(f"{args.results}: no finished {'/'.join(methods)} cells with logs on {args.env!r}",
              file=sys.stderr)
        return 2
    keys = [k for k in args.keys.split(",") if k]
    for method in methods:
        mine = [c for c in cells if c["method"] == method]
        firsts = 0
        for cell in mine:
            line, first_is_best = cell_line(cell, keys, args.accuracy)
            firsts += first_is_best
            print(line)
        if mine:
            by_demos: dict[Any, list[float]] = {}
            for cell in mine:
                by_demos.setdefault(cell.get("demos"), []).append(cell["performance"])
            means = ", ".join(f"{d} demos {statistics.mean(v):.3f}"
                              for d, v in sorted(by_demos.items(), key=lambda kv: kv[0] or 0))
            print(f"{method}: {len(mine)} cells, mean performance {means}; "
                  f"best validation the first in {firsts}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
