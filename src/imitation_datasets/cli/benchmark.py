"""``il-datasets benchmark`` and ``il-datasets benchmark-report``: run the grid, write the report.

A failed leakage check stops either command with exit status 1: the results are not published.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imitation_datasets.benchmark.options import CLI_ALIASES, CLI_FLAGS, BenchmarkOptions
from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.cli.errors import fail


@dataclass(frozen=True)
class ReportOptions:
    """Options of ``il-datasets benchmark-report``."""

    json: Path = field(metadata={"help": "a benchmark_results.json"})
    out: Path | None = field(default=None, metadata={
        "help": "folder for the Markdown and plots (default: the JSON's folder)"})


def _finished(out: Path) -> int:
    return sum(1 for _ in (out / "cells").glob("*/*/seed*.json")) if (out / "cells").is_dir() \
        else 0


def run_benchmark(options: BenchmarkOptions, argv: Sequence[str] = ()) -> int:
    """Run the benchmark grid and write the report; exit status 1 if a leakage check fails."""
    from imitation_datasets.benchmark.protocol import LeakageError
    from imitation_datasets.benchmark.report import previous_runs, summarise, write_report
    from imitation_datasets.benchmark.runner import facts_path
    from imitation_datasets.benchmark.runner import run_benchmark as run_grid
    from imitation_datasets.collect.controller import CollectionError

    out = options.out
    before = _finished(out)
    started = time.perf_counter()
    try:
        cells = run_grid(options.methods, options.envs, options.seeds, out, options.data,
                         workers=options.workers, backend=options.backend,
                         address=options.ray_address, progress=options.progress)
        facts = {env: json.loads(facts_path(out, env).read_text()) for env in
                 dict.fromkeys(c["env"] for c in cells)}
        results = summarise(cells, facts, {
            "command": "il-datasets " + " ".join(shlex.quote(a) for a in argv),
            "runs": previous_runs(out) + [{
                "wall_seconds": time.perf_counter() - started,
                "cells_run": max(0, _finished(out) - before),
                "cells_total": len(cells),
                "workers": options.workers,
                "backend": options.backend,
            }],
            "cell_seconds": sum(c["train_seconds"] + c["test_seconds"] for c in cells),
        })
        path = write_report(results, out)
    except LeakageError as exc:
        return fail(exc, 1, kind="")
    except CollectionError as exc:
        return fail(exc, 1, kind="collection stopped: ")
    print(f"report written to {path}")
    return 0


def run_report(options: ReportOptions, argv: Sequence[str] = ()) -> int:
    """Regenerate the report from its JSON; exit status 1 if a leakage check failed."""
    from imitation_datasets.benchmark.protocol import LeakageError
    from imitation_datasets.benchmark.report import report_from_json

    try:
        path = report_from_json(options.json, options.out)
    except LeakageError as exc:
        return fail(exc, 1, kind="")
    print(f"report written to {path}")
    return 0


BENCHMARK = Command(
    "benchmark", "train and test IL methods on the protocol's splits",
    (Options(BenchmarkOptions, flags=CLI_FLAGS, aliases=CLI_ALIASES),), run_benchmark,
    target=lambda options: options.out)
BENCHMARK_REPORT = Command(
    "benchmark-report", "regenerate the Markdown table and plots from the JSON",
    (Options(ReportOptions),), run_report, target=lambda options: options.out or options.json)
