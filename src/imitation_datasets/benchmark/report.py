"""The benchmark report: one JSON with every raw number, a Markdown table and PNG plots.

The Markdown and the plots are made from the JSON alone (``il-datasets benchmark-report``), so
anyone can regenerate them from a published ``benchmark_results.json``; such a file is checked
against :data:`RESULTS_STRUCTURE` first, and the first wrong field is named in a one-line
:class:`ReportFormatError`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.json_values import is_int, is_number
from imitation_datasets.core.metrics import Aggregate, performance
from imitation_datasets.core.safe_read import read_json

RESULTS_JSON = "benchmark_results.json"
RESULTS_MD = "benchmark_results.md"


class ReportFormatError(ValueError):
    """A benchmark results file does not have the structure the report is made from."""


class _Number:
    """An int or float (not a bool)."""


@dataclass(frozen=True)
class _Optional:
    spec: Any


@dataclass(frozen=True)
class _Each:
    """Every value of an object (``mapping=True``) or every item of a list follows ``spec``."""

    spec: Any
    mapping: bool = True


_AGGREGATE = {k: _Number for k in ("mean", "std", "iqm", "ci_low", "ci_high")}
RESULTS_STRUCTURE: dict[str, Any] = {
    "envs": _Each({
        "env_id": str, "expert_return": _Number, "random_return": _Number,
        "expert_test_return": _Optional(_Number),
        "leakage": {"passed": bool, "test_seeds": int, "training_start_states": int,
                    "min_distance": _Number},
    }),
    "summary": _Each(_Each({"seeds": list, "aer": _AGGREGATE, "performance": _AGGREGATE,
                            "accuracy": _Optional(_AGGREGATE)})),
    "cells": _Each({"env": str, "method": str, "log": {
        "records": _Optional(_Each({"epoch": _Number, "validation_performance": _Number},
                                   mapping=False))}}, mapping=False),
    "command": _Optional(str),
    "runs": _Optional(_Each({"cells_run": int, "cells_total": int, "wall_seconds": _Number},
                            mapping=False)),
}
"""What :func:`markdown`, :func:`plots` and :func:`write_report` read from the results."""


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict) or (isinstance(spec, _Each) and spec.mapping):
        return "an object"
    if isinstance(spec, _Each) or spec is list:
        return "a list"
    return {_Number: "a number", str: "a string", bool: "true or false", int: "an integer"}[spec]


def _matches(value: Any, spec: Any) -> bool:
    if isinstance(spec, dict) or (isinstance(spec, _Each) and spec.mapping):
        return isinstance(value, dict)
    if isinstance(spec, _Each):
        return isinstance(value, list)
    if spec is _Number or spec is int:
        return is_number(value) if spec is _Number else is_int(value)
    return isinstance(value, spec)


def check_structure(value: Any, spec: Any, where: str) -> None:
    """Raise :class:`ReportFormatError` naming the first field of ``value`` not like ``spec``."""
    if not _matches(value, spec):
        raise ReportFormatError(f"{where}: expected {_type_name(spec)}, got "
                                f"{json.dumps(value)[:40]}")
    if isinstance(spec, dict):
        for key, sub in spec.items():
            if isinstance(sub, _Optional):
                if value.get(key) is not None:
                    check_structure(value[key], sub.spec, f"{where}.{key}")
            elif key not in value:
                raise ReportFormatError(f"{where}.{key}: missing")
            else:
                check_structure(value[key], sub, f"{where}.{key}")
    elif isinstance(spec, _Each):
        items = value.items() if spec.mapping else enumerate(value)
        for key, item in items:
            check_structure(item, spec.spec, f"{where}.{key}" if spec.mapping else
                            f"{where}[{key}]")


def validate_results(results: Any, origin: str) -> None:
    """Check ``results`` (a parsed results file) before a report is made from it.

    Raises:
        ReportFormatError: ``"<origin>: <field>: <problem>"`` for the first wrong field.
    """
    try:
        check_structure(results, RESULTS_STRUCTURE, "results")
        unknown = [env for env in results["summary"] if env not in results["envs"]]
        if unknown:
            raise ReportFormatError(f"results.summary.{unknown[0]}: not in results.envs")
    except ReportFormatError as exc:
        raise ReportFormatError(f"{origin}: {exc}") from None


def summarise(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Aggregate cell results per (env, method) over training seeds."""
    summary: dict[str, dict[str, Any]] = {}
    for env in envs:
        summary[env] = {}
        methods = sorted({c["method"] for c in cells if c["env"] == env},
                         key=lambda m: [c["method"] for c in cells].index(m))
        for method in methods:
            runs = sorted((c for c in cells if c["env"] == env and c["method"] == method),
                          key=lambda c: c["seed"])
            entry = {
                "seeds": [c["seed"] for c in runs],
                "aer": asdict(Aggregate.of([c["aer"] for c in runs])),
                "performance": asdict(Aggregate.of([c["performance"] for c in runs])),
                "train_seconds": float(np.mean([c["train_seconds"] for c in runs])),
            }
            if runs[0].get("accuracy") is not None:
                entry["accuracy"] = asdict(Aggregate.of([c["accuracy"] for c in runs]))
            summary[env][method] = entry
    return {"envs": envs, "summary": summary, "cells": list(cells), **(extra or {})}


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
                 "cells_total": len(old.get("cells", [])), "jobs": old.get("jobs"),
                 "backend": old.get("backend", "local")}]
    return []


def markdown(results: dict[str, Any]) -> str:
    """The results table (like the original IL-Datasets table, plus IQM and CI columns)."""
    lines = [
        "# Benchmark results",
        "",
        "Performance = (AER − random) / (expert − random), with expert = the dataset's mean "
        "return and random = a random policy on the same test seeds. AER and performance are "
        "means ± std over training seeds; IQM and the 95 % bootstrap CI are of performance.",
        "",
    ]
    if results.get("command"):
        lines += [f"Produced by `{results['command']}`."]
        lines += [f"- run {i}: {run['cells_run']} of {run['cells_total']} cells in "
                  f"{run['wall_seconds'] / 60:.1f} min ({run.get('jobs', '?')} jobs, "
                  f"{run.get('backend', 'local')} backend)"
                  for i, run in enumerate(results.get("runs", []), 1)]
        lines += [""]
    lines += ["| Environment | Method | AER | Performance | IQM | 95 % CI | Accuracy | "
              "Expert | Random | Seeds |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for env, methods in results["summary"].items():
        facts = results["envs"][env]
        for method, s in methods.items():
            acc = s.get("accuracy")
            lines.append(
                f"| {facts['env_id']} | {method.upper()} | {s['aer']['mean']:.2f} ± "
                f"{s['aer']['std']:.2f} | {s['performance']['mean']:.3f} ± "
                f"{s['performance']['std']:.3f} | {s['performance']['iqm']:.3f} | "
                f"[{s['performance']['ci_low']:.3f}, {s['performance']['ci_high']:.3f}] | "
                + (f"{acc['mean']:.3f}" if acc else "–")
                + f" | {facts['expert_return']:.2f} | {facts['random_return']:.2f} | "
                f"{len(s['seeds'])} |"
            )
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
    lines += ["", "Leakage check (test start states vs training start states):", ""]
    for facts in results["envs"].values():
        leak = facts["leakage"]
        lines.append(f"- {facts['env_id']}: {'passed' if leak['passed'] else 'FAILED'} — "
                     f"{leak['test_seeds']} test seeds vs {leak['training_start_states']} "
                     f"training start states, min L∞ distance {leak['min_distance']:.3g}")
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any], out: Path) -> list[Path]:
    """Performance per env and method with CIs; validation learning curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = results["summary"]
    envs = list(summary)
    methods = list(dict.fromkeys(m for env in envs for m in summary[env]))
    fig, ax = plt.subplots(figsize=(1.8 * len(envs) + 2, 4))
    width = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        xs, ys, lo, hi = [], [], [], []
        for j, env in enumerate(envs):
            if method in summary[env]:
                perf = summary[env][method]["performance"]
                xs.append(j + i * width)
                ys.append(perf["mean"])
                lo.append(perf["mean"] - perf["ci_low"])
                hi.append(perf["ci_high"] - perf["mean"])
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=method.upper())
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(envs))])
    ax.set_xticklabels([results["envs"][e]["env_id"] for e in envs], rotation=15)
    ax.set_ylabel("performance (95 % bootstrap CI)")
    ax.legend(ncol=len(methods), fontsize=8)
    fig.tight_layout()
    bars = out / "performance.png"
    fig.savefig(bars, dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(envs), figsize=(3.2 * len(envs), 3), squeeze=False)
    for ax, env in zip(axes[0], envs):
        for method in methods:
            curves = [c["log"]["records"] for c in results["cells"]
                      if c["env"] == env and c["method"] == method and c["log"].get("records")]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            x = [r["epoch"] for r in curves[0][:length]]
            y = np.mean([[r["validation_performance"] for r in c[:length]] for c in curves],
                        axis=0)
            ax.plot(x, y, label=method.upper())
        ax.set_title(results["envs"][env]["env_id"], fontsize=9)
        ax.set_xlabel("epoch")
    axes[0][0].set_ylabel("validation performance")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    curves_path = out / "learning_curves.png"
    fig.savefig(curves_path, dpi=120)
    plt.close(fig)
    return [bars, curves_path]


def write_report(results: dict[str, Any], out: str | Path, with_plots: bool = True) -> Path:
    """Write the JSON, the Markdown table and the plots.

    Raises:
        LeakageError: an environment failed its leakage check; nothing is written.
    """
    from imitation_datasets.benchmark.protocol import LeakageError

    failed = [e for e, facts in results["envs"].items() if not facts["leakage"]["passed"]]
    if failed:
        raise LeakageError(f"refusing to publish: leakage check failed for {failed}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / RESULTS_JSON, json.dumps(results, indent=1))
    atomic_write_text(out / RESULTS_MD, markdown(results))
    if with_plots:
        plots(results, out)
    return out / RESULTS_MD


def report_from_json(path: str | Path, out: str | Path | None = None) -> Path:
    """Regenerate the Markdown and plots from a ``benchmark_results.json``.

    Raises:
        DatasetFormatError: the file is missing, not a regular file, too large or not JSON.
        ReportFormatError: a field is missing or of the wrong type (the first one is named).
    """
    path = Path(path)
    results = read_json(path)
    validate_results(results, str(path))
    return write_report(results, out or path.parent)
