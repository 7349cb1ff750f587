"""``il-datasets benchmark`` and ``il-datasets benchmark-report``: run the grid, write the report.

A failed leakage check stops either command with exit status 1: the results are not published.
"""

from __future__ import annotations

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

    json: Path = field(metadata={
        "help": "a benchmark_results.json, or a results folder (then every cell file in it)"})
    out: Path | None = field(default=None, metadata={
        "help": "folder for the Markdown and plots (default: the JSON's folder)"})


def run_benchmark(options: BenchmarkOptions, argv: Sequence[str] = ()) -> int:
    """Run the benchmark grid and write the report; exit status 1 if a leakage check fails."""
    from imitation_datasets.benchmark.protocol import LeakageError
    from imitation_datasets.benchmark.results_lock import results_writer
    from imitation_datasets.benchmark.runner import plan_grid, run_cells
    from imitation_datasets.collect.controller import CollectionError

    out = options.out
    started = time.perf_counter()
    try:
        with results_writer(out):
            plan = plan_grid(options.methods, options.envs, options.seeds, out, options.data,
                             options.workers, demos=options.demos,
                             overwrite=options.overwrite, budget_scale=options.budget_scale,
                             first_seed=options.first_seed,
                             overrides=options.config_overrides())
            left = run_cells(plan, out, options.data, options.workers, options.backend,
                             options.ray_address, options.progress, options.stop_after)
            path = write_run_report(
                out, "il-datasets " + " ".join(shlex.quote(a) for a in argv), started,
                len(plan.todo) - left, len(plan.cells), options.workers, options.backend)
    except LeakageError as exc:
        return fail(exc, 1, kind="")
    except CollectionError as exc:
        return fail(exc, 1, kind="collection stopped: ")
    print(f"report written to {path}")
    return 0


def write_run_report(out: Path, command: str, started: float, cells_run: int,
                     cells_total: int, workers: int, backend: str = "local") -> Path:
    """Rewrite ``out``'s report from all its cells, recording one more invocation in it.

    ``started`` is the invocation's ``time.perf_counter()`` at its start; ``cells_run`` the
    cells it finished (its plan's cells left to run less those left unfinished), of
    ``cells_total`` in its grid. Returns the Markdown report's path.
    """
    from imitation_datasets.benchmark.provenance import run_record
    from imitation_datasets.benchmark.report import previous_runs, summarise, write_report
    from imitation_datasets.benchmark.runner import finished_results
    from imitation_datasets.benchmark.targets import probe_records

    cells, facts = finished_results(out)
    results = summarise(cells, facts, {
        "command": command,
        "probes": probe_records(out),
        "runs": previous_runs(out) + [{
            "command": command,
            "wall_seconds": time.perf_counter() - started,
            "cells_run": cells_run,
            "cells_total": cells_total,
            "workers": workers,
            "backend": backend,
            **run_record(),
        }],
        "cell_seconds": sum(c["train_seconds"] + c["test_seconds"] for c in cells),
    })
    return write_report(results, out)


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


PUBLISHED = Path("results") / "benchmark_results.json"
"""The committed table, compared with by default (in a clone of the repository)."""


@dataclass(frozen=True)
class CompareOptions:
    """Options of ``il-datasets benchmark-compare``."""

    bundles: tuple[Path, ...] = field(metadata={
        "help": "benchmark_results.json files (or results folders) to put side by side; with "
                f"one, it is compared with the committed table ({PUBLISHED})"})
    out: Path = field(default=Path("benchmark_compare"), metadata={
        "help": "folder for the merged report (JSON, Markdown, plots, index.html)"})
    apart: bool = field(default=False, metadata={
        "help": "show cells of other protocols or data as method@bundle rows instead of "
                "refusing them"})


def run_compare(options: CompareOptions, argv: Sequence[str] = ()) -> int:
    """Merge results bundles into one report; exit status 2 if they are not comparable."""
    from imitation_datasets.benchmark.compare import compare
    from imitation_datasets.benchmark.report import RESULTS_JSON

    paths = [p / RESULTS_JSON if p.is_dir() else p for p in options.bundles]
    if len(paths) == 1:
        if not PUBLISHED.is_file():
            return fail(f"{PUBLISHED}: not found (run from a clone of the repository, or name "
                        "the bundles to compare)")
        paths.append(PUBLISHED)
    print(f"report written to {compare(paths, options.out, options.apart)}")
    return 0


BENCHMARK = Command(
    "benchmark", "train and test IL methods on the protocol's splits",
    (Options(BenchmarkOptions, flags=CLI_FLAGS, aliases=CLI_ALIASES),), run_benchmark,
    target=lambda options: options.out)
BENCHMARK_REPORT = Command(
    "benchmark-report", "regenerate the Markdown table and plots from the JSON",
    (Options(ReportOptions),), run_report, target=lambda options: options.out or options.json)
BENCHMARK_COMPARE = Command(
    "benchmark-compare", "put your results beside the published table (or other bundles)",
    (Options(CompareOptions),), run_compare, target=lambda options: options.out)
