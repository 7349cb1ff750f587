"""The benchmark report: one JSON with every raw number, a Markdown table and PNG plots.

The Markdown and the plots are made from the JSON alone (``il-datasets benchmark-report``), so
anyone can regenerate them from a published ``benchmark_results.json``; such a file is checked
against :data:`RESULTS_STRUCTURE` first, and the first wrong field is named in a one-line
:class:`ReportFormatError`. Aggregates (per environment over training seeds, and per method
across environments as rliable reports them) are recomputed from the raw cells every time, so a
published file gets the current statistics (:mod:`imitation_datasets.core.metrics`) while its
cell numbers stay as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.benchmark.anchors import anchor_lines, anchors
from imitation_datasets.benchmark.options import method_order
from imitation_datasets.benchmark.page import results_page
from imitation_datasets.benchmark.plan import progress, progress_lines
from imitation_datasets.benchmark.plots import plots
from imitation_datasets.benchmark.protocol import LeakageError, cell_demos_count, table_cells
from imitation_datasets.benchmark.provenance import provenance
from imitation_datasets.benchmark.reproducible import arithmetic_line
from imitation_datasets.benchmark.structure import (
    CELL_STRUCTURE,
    FACTS_STRUCTURE,
    Each,
    Number,
    Optional,
    ReportFormatError,
    check_structure,
)
from imitation_datasets.benchmark.targets import probe_records, target_lines, targets
from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.metrics import (
    Aggregate,
    TaskAggregates,
    performance,
    probability_of_improvement,
)
from imitation_datasets.core.safe_read import read_json

log = logging.getLogger(__name__)

RESULTS_JSON = "benchmark_results.json"
RECOMPUTED = ("envs", "summary", "aggregates", "improvement", "sample_efficiency", "cost",
              "anchors", "targets", "progress", "provenance", "cells")
"""Keys of a results file that :func:`report_from_json` recomputes from its cells."""
RESULTS_MD = "benchmark_results.md"
CURVE_FOOTNOTE = "(n) = training seeds at that count."
"""The line under sample-efficiency tables."""


RESULTS_STRUCTURE: dict[str, Any] = {
    "envs": Each(FACTS_STRUCTURE),
    "cells": Each(CELL_STRUCTURE, mapping=False),
    "command": Optional(str),
    "runs": Optional(Each({"cells_run": int, "cells_total": int, "wall_seconds": Number,
                           "command": Optional(str)},
                          mapping=False)),
    "probes": Optional(Each({"env": str, "method": str, "demos": int, "seed": int,
                             "budget_scale": Number, "performance": Number, "probe": str},
                            mapping=False)),
}
"""What :func:`summarise`, :func:`markdown`, :func:`plots` and :func:`write_report` read from a
results file (the keys in :data:`RECOMPUTED` are recomputed from ``cells``)."""


def validate_results(results: Any, origin: str) -> None:
    """Check ``results`` (a parsed results file) before a report is made from it.

    Raises:
        ReportFormatError: ``"<origin>: <field>: <problem>"`` for the first wrong field.
    """
    try:
        check_structure(results, RESULTS_STRUCTURE, "results")
        if not results["cells"]:
            raise ReportFormatError("results.cells: empty (nothing to report)")
        unknown = [i for i, c in enumerate(results["cells"]) if c["env"] not in results["envs"]]
        if unknown:
            raise ReportFormatError(f"results.cells[{unknown[0]}].env: "
                                    f"{results['cells'][unknown[0]]['env']!r} not in results.envs")
    except ReportFormatError as exc:
        raise ReportFormatError(f"{origin}: {exc}") from None


def summarise(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate cell results per (env, method) over training seeds, and per method across envs.

    ``aggregates[method]["performance"]`` holds rliable's IQM, mean and optimality gap over the
    method's runs on every environment, each with a stratified-bootstrap 95 % CI (seeded).
    The issues' targets are judged with the budget probes in ``extra["probes"]`` (the records
    of :func:`~imitation_datasets.benchmark.targets.probe_records`), if any.
    """
    every = list(cells)
    cells = table_cells(every, envs)
    summary: dict[str, dict[str, Any]] = {}
    order = method_order(c["method"] for c in every)
    for env in envs:
        summary[env] = {}
        for method in (m for m in order if any(c["env"] == env and c["method"] == m
                                               for c in cells)):
            runs = sorted((c for c in cells if c["env"] == env and c["method"] == method),
                          key=lambda c: c["seed"])
            entry = {
                "seeds": [c["seed"] for c in runs],
                "demos": cell_demos_count(runs[0], envs[env]),
                "aer": asdict(Aggregate.of([c["aer"] for c in runs])),
                "performance": asdict(Aggregate.of([c["performance"] for c in runs])),
                "train_seconds": float(np.mean([c["train_seconds"] for c in runs])),
                "env_steps": float(np.mean([_env_steps(c) for c in runs])),
            }
            if runs[0].get("accuracy") is not None:
                entry["accuracy"] = asdict(Aggregate.of([c["accuracy"] for c in runs]))
            facts = envs[env]
            if facts.get("expert_test_return") is not None:  # the paired reference
                entry["performance_vs_expert"] = asdict(Aggregate.of(
                    [performance(c["aer"], facts["random_return"], facts["expert_test_return"])
                     for c in runs]))
            summary[env][method] = entry
    aggregates = {}
    for method in order:
        tasks = {env: [c["performance"] for c in cells if c["env"] == env
                       and c["method"] == method] for env in envs}
        tasks = {env: scores for env, scores in tasks.items() if scores}
        if tasks:
            aggregates[method] = {"envs": list(tasks), "performance": asdict(
                TaskAggregates.of(list(tasks.values())))}
    return {"envs": envs, "summary": summary, "aggregates": aggregates,
            "improvement": improvements(cells, envs, order),
            "sample_efficiency": sample_efficiency(every, envs, order),
            "cost": cost(every, order), "anchors": anchors(every, envs),
            "targets": targets(every, envs, (extra or {}).get("probes") or []),
            "progress": progress(every, envs),
            "provenance": provenance(envs), "cells": every,
            **(extra or {})}


def sample_efficiency(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
                      order: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Performance against the number of demonstration episodes, per env and method.

    Only (env, method) pairs run on at least two demonstration counts have a curve; each point
    aggregates the training seeds of one count (mean, IQM, bootstrap CI).
    """
    curves: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for env in envs:
        for method in order:
            runs = [c for c in cells if c["env"] == env and c["method"] == method]
            by_count: dict[int, list[dict[str, Any]]] = {}
            for c in sorted(runs, key=lambda c: c["seed"]):
                by_count.setdefault(cell_demos_count(c, envs[env]), []).append(c)
            if len(by_count) < 2:
                continue
            curves.setdefault(env, {})[method] = [
                {"demos": n, "seeds": [c["seed"] for c in by_count[n]],
                 "performance": asdict(Aggregate.of([c["performance"] for c in by_count[n]]))}
                for n in sorted(by_count)]
    return curves


def _env_steps(cell: dict[str, Any]) -> int:
    """Environment steps a cell's training used (from its log in cells written before 0.3)."""
    return int(cell.get("env_steps") or cell.get("log", {}).get("env_steps") or 0)


def cost(cells: Sequence[dict[str, Any]], order: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What each method's cells cost: count, cell time (train + test, wall) and env steps.

    Also the CPU seconds (train + test) of the cells that recorded them, and their count.
    """
    table = {}
    for method in order:
        runs = [c for c in cells if c["method"] == method]
        timed = [c for c in runs if "train_cpu_seconds" in c]
        table[method] = {
            "cells": len(runs),
            "cell_seconds": float(sum(c["train_seconds"] + c.get("test_seconds", 0.0)
                                      for c in runs)),
            "env_steps": sum(_env_steps(c) for c in runs),
            "cpu_cells": len(timed),
            "cpu_seconds": float(sum(c["train_cpu_seconds"] + c["test_cpu_seconds"]
                                     for c in timed)),
        }
    return table


def improvements(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
                 order: Sequence[str]) -> list[dict[str, Any]]:
    """Rliable's probability of improvement for each pair of methods, on the envs both ran."""
    def scores(method: str, env: str) -> list[float]:
        return [c["performance"] for c in sorted(cells, key=lambda c: c["seed"])
                if c["env"] == env and c["method"] == method]

    pairs = []
    for i, x in enumerate(order):
        for y in order[i + 1:]:
            shared = [env for env in envs if scores(x, env) and scores(y, env)]
            if shared:
                estimate = probability_of_improvement([scores(x, env) for env in shared],
                                                      [scores(y, env) for env in shared])
                pairs.append({"x": x, "y": y, "envs": shared, **asdict(estimate)})
    return pairs


def previous_runs(out: str | Path) -> list[dict[str, Any]]:
    """The invocations recorded in an existing report under ``out`` (wall time, cells run).

    A resumed benchmark only runs missing cells, so each invocation is kept with its own
    figures instead of overwriting the time of the run that did the work.
    """
    path = Path(out) / RESULTS_JSON
    if not path.exists():
        return []
    old = read_json(path)
    if not isinstance(old, dict):
        return []
    if "runs" in old:
        return list(old["runs"])
    if "wall_seconds" in old:  # reports written before runs were recorded
        return [{"wall_seconds": old["wall_seconds"], "cells_run": len(old.get("cells", [])),
                 "cells_total": len(old.get("cells", [])), "workers": old.get("jobs"),
                 "backend": old.get("backend", "local")}]
    return []


def markdown(results: dict[str, Any]) -> str:
    """The results table (like the original IL-Datasets table, plus IQM and CI columns)."""
    lines = [
        "# Benchmark results",
        "",
        "Performance = (AER − random) / (expert − random), with expert = the dataset's mean "
        "return and random = a random policy on the same test seeds. AER and performance are "
        "means ± std over training seeds; IQM (25 % trimmed mean) and the 95 % bootstrap CI "
        "are of performance.",
        "",
    ]
    scales = sorted({c["budget_scale"] for c in results["cells"] if "budget_scale" in c})
    if scales:
        lines += [f"**A budget probe, not the protocol:** cells trained with "
                  f"{', '.join(f'{k:g}' for k in scales)} × their method's training budget "
                  "(the config's `budget_fields`: epochs, iterations or environment steps; "
                  "`il-datasets benchmark --budget-scale`). Every other setting is the "
                  "protocol's.", ""]
    overrides = sorted({json.dumps(c["config_overrides"], sort_keys=True)[:200]
                        for c in results["cells"] if c.get("config_overrides")})
    if overrides:
        lines += ["**A config probe, not the protocol:** cells trained with these config fields "
                  f"set over their method's config: {'; '.join(f'`{o}`' for o in overrides)} "
                  "(`il-datasets benchmark --set`); no target is judged here.", ""]
    lines += [arithmetic_line(results["cells"]), ""]
    if results.get("command"):
        lines += [f"Produced by `{results['command']}`.", *_run_lines(results.get("runs", [])),
                  ""]
    lines += (_compared_lines(results) + _matrix_lines(results) + progress_lines(results)
              + target_lines(results))
    lines += ["| Environment | Method | AER | Performance | IQM | 95 % CI | Accuracy | "
              "Expert | Random | Seeds |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for env, methods in results["summary"].items():
        facts = results["envs"][env]
        for method, s in methods.items():
            acc = s.get("accuracy")
            lines.append(
                f"| {facts['env_id']} | {method.upper()}{_demos_note(s, facts)} | "
                f"{s['aer']['mean']:.2f} ± {s['aer']['std']:.2f} | "
                f"{s['performance']['mean']:.3f} ± {s['performance']['std']:.3f} | "
                f"{s['performance']['iqm']:.3f} | "
                f"[{s['performance']['ci_low']:.3f}, {s['performance']['ci_high']:.3f}] | "
                + (f"{acc['mean']:.3f}" if acc else "–")
                + f" | {facts['expert_return']:.2f} | {facts['random_return']:.2f} | "
                f"{len(s['seeds'])} |"
            )
    lines += _aggregate_table(results)
    ceilings = [(facts["env_id"], facts["expert_test_return"],
                 performance(facts["expert_test_return"], facts["random_return"],
                             facts["expert_return"]))
                for facts in results["envs"].values() if "expert_test_return" in facts]
    if ceilings:
        lines += ["", "The curated expert itself on the same test seeds (what a perfect clone "
                  "scores; performance can differ from 1 because the expert reference is the "
                  "dataset's mean over other start states):", ""]
        lines += [f"- {env_id}: AER {aer:.2f}, performance {perf:.3f}"
                  for env_id, aer, perf in ceilings]
    paired = [(results["envs"][env]["env_id"], method, s["performance_vs_expert"])
              for env, methods in results["summary"].items() for method, s in methods.items()
              if "performance_vs_expert" in s]
    if paired:
        lines += ["", "Performance against the curated expert on the same test seeds (the paired "
                  "reference: (AER − random) / (expert's test return − random); 1 = as good as "
                  "the expert on exactly these start states):", "",
                  "| Environment | Method | Performance vs expert | IQM | 95 % CI |",
                  "|---|---|---|---|---|"]
        lines += [f"| {env_id} | {method.upper()} | {a['mean']:.3f} ± {a['std']:.3f} | "
                  f"{a['iqm']:.3f} | [{a['ci_low']:.3f}, {a['ci_high']:.3f}] |"
                  for env_id, method, a in paired]
    lines += _sample_efficiency_tables(results) + anchor_lines(results) + _cost_table(results)
    lines += ["", "Leakage check (test start states vs training start states):", ""]
    for facts in results["envs"].values():
        leak = facts["leakage"]
        lines.append(f"- {facts['env_id']}: {'passed' if leak['passed'] else 'FAILED'} — "
                     f"{leak['test_seeds']} test seeds vs {leak['training_start_states']} "
                     f"training start states, min L∞ distance {leak['min_distance']:.3g}")
    return "\n".join(lines) + "\n"


def _demos_note(entry: dict[str, Any], facts: dict[str, Any]) -> str:
    """`` (N demos)`` when a table entry is not on the protocol's number of demonstrations."""
    default = facts.get("protocol", {}).get("train_episodes")
    demos = entry.get("demos", default)
    return f" ({demos} demos)" if demos != default else ""


def _matrix_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the headline matrix (:func:`matrix_table`, mean ± std) and caption."""
    table = matrix_table(results)
    if not table:
        return []
    return ["Performance by method and environment (mean ± std over training seeds, (n) "
            "seeds; details below):", "", *table, ""]


def matrix_table(results: dict[str, Any], statistic: str = "mean") -> list[str]:
    """The headline matrix: performance per method (rows) and env (columns), as table lines.

    Each entry is the mean ± std (``statistic="mean"``) or the IQM with its 95 % bootstrap CI
    (``"iqm"``) over training seeds, with the number of seeds; an entry on another number of
    demonstrations than the protocol's says so; a pair with no cell reads "not run".
    """
    envs = [env for env, methods in results["summary"].items() if methods]
    methods = list(dict.fromkeys(m for env in envs for m in results["summary"][env]))
    if not methods:
        return []
    lines = ["| Method | " + " | ".join(results["envs"][e]["env_id"] for e in envs) + " |",
             "|---|" + "---|" * len(envs)]
    for method in methods:
        row = []
        for env in envs:
            entry = results["summary"][env].get(method)
            if entry is None:
                row.append("not run")
                continue
            perf = entry["performance"]
            value = (f"{perf['mean']:.3f} ± {perf['std']:.3f}" if statistic == "mean" else
                     f"{perf['iqm']:.3f} [{perf['ci_low']:.3f}, {perf['ci_high']:.3f}]")
            row.append(f"{value} ({len(entry['seeds'])})"
                       + _demos_note(entry, results["envs"][env]))
        lines.append(f"| {method.upper()} | " + " | ".join(row) + " |")
    return lines


def _compared_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines naming the bundles of a comparison (empty for one benchmark run)."""
    if not results.get("compared"):
        return []
    lines = ["Bundles in this report (`il-datasets benchmark-compare`); their protocols, "
             "datasets and expert cards agree on every shared environment unless listed as "
             "shown apart:", ""]
    lines += [f"- {b['label']}: `{b['path']}`, {b['cells']} cells ({', '.join(b['methods'])})"
              for b in results["compared"]]
    lines += [f"- shown apart: {note}" for note in results.get("apart") or []]
    return lines + [""]


def _sample_efficiency_tables(results: dict[str, Any]) -> list[str]:
    """Markdown lines of performance against the number of demonstrations, one table per env."""
    lines: list[str] = []
    for env in results.get("sample_efficiency") or {}:
        lines += ["", f"Sample efficiency on {results['envs'][env]['env_id']}: performance "
                  "(mean over training seeds [95 % bootstrap CI]) by demonstration episodes; "
                  "fewer episodes are the first ones of the same training data:", ""]
        lines += sample_efficiency_table(results, env)
    if lines:
        lines += ["", CURVE_FOOTNOTE]
    return lines


def sample_efficiency_table(results: dict[str, Any], env: str) -> list[str]:
    """One env's Markdown table: methods (rows) by demonstration episodes (columns).

    Raises:
        KeyError: ``env`` has no sample-efficiency curve in ``results``.
    """
    methods = (results.get("sample_efficiency") or {})[env]
    counts = sorted({p["demos"] for points in methods.values() for p in points})
    lines = ["| Method | " + " | ".join(str(n) for n in counts) + " |",
             "|---|" + "---|" * len(counts)]
    for method, points in methods.items():
        by_count = {p["demos"]: p for p in points}
        lines.append(f"| {method.upper()} | " + " | ".join(
            _curve_point(by_count[n]) if n in by_count else "not run" for n in counts) + " |")
    return lines


def _curve_point(point: dict[str, Any]) -> str:
    perf = point["performance"]
    return (f"{perf['mean']:.3f} [{perf['ci_low']:.2f}, {perf['ci_high']:.2f}] "
            f"({len(point['seeds'])})")


def _cost_table(results: dict[str, Any]) -> list[str]:
    """Markdown lines of what each method cost: cell time and environment steps."""
    cost = results.get("cost") or {}
    if not cost:
        return []
    envs = list(results["summary"])
    lines = ["", "Cost per method: mean training seconds per cell of the table (one core, "
             "`torch.set_num_threads(1)`; wall time depends on the machine and its load) and "
             "mean environment steps of training (online methods interact; offline ones read "
             "only the datasets); the last columns sum every cell in this folder, curves "
             "included (CPU time: what the cells cost a free core, summed over the cells that "
             "recorded it, whose count is in brackets):", "",
             "| Method | " + " | ".join(results["envs"][e]["env_id"] for e in envs)
             + " | Cells | Cell time (min) | CPU time (min) | Env steps |",
             "|---|" + "---|" * (len(envs) + 4)]
    for method, c in cost.items():
        row = []
        for env in envs:
            s = results["summary"][env].get(method)
            row.append(f"{s['train_seconds']:.0f} s / {s['env_steps'] / 1e3:.0f}k" if s
                       else "not run")
        lines.append(f"| {method.upper()} | " + " | ".join(row)
                     + f" | {c['cells']} | {c['cell_seconds'] / 60:.1f} | "
                     + (f"{c['cpu_seconds'] / 60:.1f} ({c['cpu_cells']})"
                        if c.get("cpu_cells") else "–")
                     + f" | {c['env_steps']:,} |")
    return lines


def _run_lines(runs: list[dict[str, Any]]) -> list[str]:
    """One line per recorded invocation that finished a cell; those that finished none, folded.

    An invocation that found its grid finished (or stopped before a cell ended) still counts.
    """
    lines = [f"- run {i}: {run['cells_run']} of {run['cells_total']} cells in "
             f"{run['wall_seconds'] / 60:.1f} min ({_workers(run)} workers, "
             f"{run.get('backend', 'local')} backend)"
             + (f": `{run['command']}`" if run.get("command") else "")
             for i, run in enumerate(runs, 1) if run["cells_run"]]
    idle = [i for i, run in enumerate(runs, 1) if not run["cells_run"]]
    if idle:
        minutes = sum(runs[i - 1]["wall_seconds"] for i in idle) / 60
        lines.append(f"- run{'s' if len(idle) > 1 else ''} {', '.join(map(str, idle))}: no "
                     f"cell finished ({minutes:.1f} min in all: every cell of the grid had "
                     "run before, or the run stopped before one ended)")
    return lines


def _workers(run: dict[str, Any]) -> Any:
    """Cells run in parallel in one invocation (``jobs`` in reports written before 0.2)."""
    return run.get("workers", run.get("jobs", "?"))


def _aggregate_table(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the across-environment aggregates (empty when there are none)."""
    aggregates = results.get("aggregates") or {}
    if not aggregates:
        return []

    def cell(estimate: dict[str, float]) -> str:
        return (f"{estimate['value']:.3f} [{estimate['ci_low']:.3f}, "
                f"{estimate['ci_high']:.3f}]")

    lines = ["", "Across environments (rliable's aggregates of performance over every run of "
             "every environment; 95 % stratified-bootstrap CIs, resampling training seeds "
             "within each environment; optimality gap = mean shortfall below 1):", "",
             "| Method | IQM | Mean | Optimality gap | Environments | Runs |",
             "|---|---|---|---|---|---|"]
    for method, agg in aggregates.items():
        perf = agg["performance"]
        lines.append(f"| {method.upper()} | {cell(perf['iqm'])} | {cell(perf['mean'])} | "
                     f"{cell(perf['optimality_gap'])} | {perf['tasks']} | {perf['runs']} |")
    pairs = results.get("improvement") or []
    if pairs:
        lines += ["", "Probability of improvement (rliable): P(X > Y) is the chance that a random "
                  "run of X scores a higher performance than a random run of Y on the same "
                  "environment (ties count half), averaged over the environments both ran; "
                  "95 % stratified-bootstrap CIs. 0.5: no difference.", "",
                  "| X | Y | P(X > Y) | Environments |", "|---|---|---|---|"]
        lines += [f"| {p['x'].upper()} | {p['y'].upper()} | {cell(p)} | {len(p['envs'])} |"
                  for p in pairs]
    return lines


def write_report(results: dict[str, Any], out: str | Path, with_plots: bool = True) -> Path:
    """Write the JSON, the Markdown table, the plots and the results page (``index.html``).

    Raises:
        LeakageError: an environment failed its leakage check; nothing is written.
    """
    failed = [e for e, facts in results["envs"].items() if not facts["leakage"]["passed"]]
    if failed:
        raise LeakageError(f"refusing to publish: leakage check failed for {failed}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RESULTS_JSON, json.dumps(results, indent=1))
    atomic_write_text(out / RESULTS_MD, markdown(results))
    if with_plots:
        try:
            import matplotlib  # noqa: F401  (the plots' only optional dependency)
        except ImportError:
            log.warning("plots skipped: matplotlib is not installed (pip install "
                        "\"imitation-datasets[plots]\"); the JSON and Markdown are written")
        else:
            plots(results, out)
    results_page(results, out)
    return out / RESULTS_MD


def report_from_json(path: str | Path, out: str | Path | None = None) -> Path:
    """Regenerate the Markdown and plots from a ``benchmark_results.json``.

    ``path`` may also be a results folder: the report is then made from every cell file in it
    (with the facts under its ``envs/``), keeping the invocations recorded in its JSON.

    Raises:
        DatasetFormatError: the file is missing, not a regular file, too large or not JSON.
        ReportFormatError: a field is missing or of the wrong type (the first one is named).
    """
    path = Path(path)
    if path.is_dir():
        from imitation_datasets.benchmark.runner import finished_results

        cells, facts = finished_results(path)
        old = read_json(path / RESULTS_JSON) if (path / RESULTS_JSON).is_file() else {}
        results = {**(old if isinstance(old, dict) else {}), "cells": cells, "envs": facts,
                   "probes": probe_records(path)}
        path = path / RESULTS_JSON
    else:
        results = read_json(path)
    validate_results(results, str(path))
    rest = {k: v for k, v in results.items() if k not in RECOMPUTED}
    return write_report(summarise(results["cells"], results["envs"], rest), out or path.parent)
