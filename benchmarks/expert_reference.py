"""How much of a benchmark performance gap comes from the expert reference, not the method.

The benchmark's performance is ``(AER - random) / (expert - random)`` with ``expert`` = the
mean return of the dataset's accepted episodes (issue protocol). Two things move that reference
away from what the expert scores on the test seeds, so that even a perfect clone of the expert
scores below 1:

* the acceptance threshold: the Controller rejects episodes below it, so the accepted mean is
  above the mean over all attempts (the rejected returns are in the dataset's metadata);
* the start states: the test seeds are other start states than the dataset's.

For each env of a finished benchmark this prints the accepted mean, the mean over every attempt,
the expert's own AER on the test seeds, and the performance of a perfect clone and of each
method against both references. It reads only ``results/benchmark_results.json`` and the
datasets' ``metadata.json`` (re-created by the benchmark command in the results' header).

Usage::

    python benchmarks/expert_reference.py [--results results] [--data benchmark_data]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def reference_rows(results: dict, data: Path) -> list[dict]:
    """One row per env: the references and the performances they give."""
    rows = []
    for key, env in results["envs"].items():
        meta_path = data / key / "metadata.json"
        if not meta_path.is_file():
            raise SystemExit(f"{meta_path} is missing: re-create the datasets with the command "
                             f"in {results.get('command', 'the results header')!r}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta["collection"]["fingerprint"] != env["dataset_fingerprint"]:
            raise SystemExit(f"{meta_path} is not the dataset the results were computed on "
                             "(fingerprint differs)")
        accepted = np.asarray(meta["episodes"]["return"], dtype=np.float64)
        rejected = np.asarray(meta["acceptance"]["rejected_returns"], dtype=np.float64)
        every = np.concatenate([accepted, rejected])
        random = float(env["random_return"])

        def performance(aer: float, expert: float, random: float = random) -> float:
            return (aer - random) / (expert - random)

        row = {"env": env["env_id"], "attempts": len(every), "rejected": len(rejected),
               "threshold": meta["collection"]["threshold"], "accepted_mean": accepted.mean(),
               "attempts_mean": every.mean(), "expert_test": float(env["expert_test_return"])}
        row["clone"] = (performance(row["expert_test"], row["accepted_mean"]),
                        performance(row["expert_test"], row["attempts_mean"]))
        row["methods"] = {
            method: (performance(cell["aer"]["mean"], row["accepted_mean"]),
                     performance(cell["aer"]["mean"], row["attempts_mean"]))
            for method, cell in results["summary"][key].items()}
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--data", type=Path, default=Path("benchmark_data"))
    args = parser.parse_args(argv)
    results = json.loads((args.results / "benchmark_results.json").read_text(encoding="utf-8"))
    rows = reference_rows(results, args.data)
    methods = sorted({m for row in rows for m in row["methods"]})
    print("Performance of the mean AER against the accepted-episode mean (the protocol's "
          "reference) / the mean over every attempt (no acceptance filter).\n")
    print("| env | rejected / attempts | threshold | accepted mean | all-attempt mean | expert on "
          "test seeds | perfect clone | " + " | ".join(m.upper() for m in methods) + " |")
    print("|---" * (7 + len(methods)) + "|")
    for row in rows:
        cells = [f"{row['methods'][m][0]:.3f} / {row['methods'][m][1]:.3f}"
                 if m in row["methods"] else "–" for m in methods]
        print(f"| {row['env']} | {row['rejected']} / {row['attempts']} | {row['threshold']:g} | "
              f"{row['accepted_mean']:.2f} | {row['attempts_mean']:.2f} | "
              f"{row['expert_test']:.2f} | {row['clone'][0]:.3f} / {row['clone'][1]:.3f} | "
              + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
