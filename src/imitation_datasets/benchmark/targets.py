"""The issues' targets beside our cells: ``targets.yaml`` and the report's verdict on each.

A target names methods, environments (or families), a number of demonstration episodes, a
goal (a fixed threshold, a published anchor's score, or another method's mean on the same
cells) and the training seeds it needs. Each (target, env) — each (target, method, env) unless
the target is met by the best of its methods — gets one verdict from the finished cells:

* ``met`` / ``missed``: the seeds it needs have run, and their mean reaches the goal or not
  (a ``versus`` goal, "at least matches", is also met when the other method's mean lies within
  our 95 % bootstrap CI: a difference the seeds cannot resolve is a match);
* ``pending``: fewer seeds than it needs have run (the mean so far is shown, not judged);
* ``not run``: no cell.

A best-of row names the methods of the target that never ran on that env: its verdict is the
best of those that did.

Where a verdict is not ``met``, the row carries what the issue asks to see: the method's
sample-efficiency curve on that env and the budget it would need, read from the folder's budget
probes (``OUT/probes/*``: cells trained with ``--budget-scale K``, see :func:`probe_records`).
The smallest probed scale whose mean reaches the goal is that budget; probes that all stay below
it say that budget is not what the cell lacks (up to the largest scale probed); with no probe
the row gives the command that would make one. A report lists a target's environments of the
families it holds, so a target the folder never ran shows as not run instead of vanishing.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.anchors import anchor_sources
from imitation_datasets.benchmark.protocol import (
    cell_demos_count,
    env_families,
    env_protocol,
    expand_families,
    is_probe,
)
from imitation_datasets.core.config import from_mapping, read_yaml
from imitation_datasets.core.errors import ConfigError, OneLineError
from imitation_datasets.core.json_values import is_finite_number, is_int, is_number, short_repr
from imitation_datasets.core.metrics import Aggregate, performance

TARGETS_FILE = Path(__file__).with_name("targets.yaml")
VERDICTS = ("met", "missed", "pending", "not run")


class ProbeFormatError(OneLineError, ValueError):
    """A cell of a budget-probe folder lacks what the targets read from it."""


@dataclass(frozen=True)
class Target:
    """One target of an issue (see the module docstring and ``targets.yaml``)."""

    issue: int
    text: str
    methods: list[str]
    envs: list[str]
    seeds: int
    demos: int | None = None
    threshold: float | None = None
    anchor: str | None = None
    versus: str | None = None
    best_of: bool = False


@dataclass(frozen=True)
class _TargetsFile:
    targets: dict[str, Target]


@functools.cache
def target_table(path: Path = TARGETS_FILE) -> dict[str, Target]:
    """The targets by key, in file order.

    Raises:
        ConfigError: an unknown key or wrong type, a target without exactly one goal
            (``threshold``, ``anchor``, ``versus``), an unknown environment, family, method or
            anchor source, or an anchor that scores none of the target's (method, env).
    """
    from imitation_datasets.benchmark.options import METHODS

    table = from_mapping(_TargetsFile, read_yaml(path), path.name).targets
    sources = anchor_sources()
    for key, target in table.items():
        where = f"{path.name} [targets.{key}]"
        goals = [g for g in (target.threshold, target.anchor, target.versus) if g is not None]
        if len(goals) != 1:
            raise ConfigError(f"{where}: give exactly one of threshold, anchor, versus")
        for method in [*target.methods, *([target.versus] if target.versus else [])]:
            if method not in METHODS:
                raise ConfigError(f"{where}: unknown method {method!r}")
        for env in expand_families(target.envs):
            env_protocol(env)  # raises for an unknown environment
        if target.anchor is not None:
            if target.anchor not in sources:
                raise ConfigError(f"{where}: unknown anchor source {target.anchor!r}")
            scores = sources[target.anchor].scores
            if any(env not in scores.get(m, {}) for m in target.methods
                   for env in expand_families(target.envs)):
                raise ConfigError(f"{where}: {target.anchor} does not score every (method, env)")
        if target.seeds < 1:
            raise ConfigError(f"{where}: seeds must be >= 1")
    return table


def probe_records(out: str | Path) -> list[dict[str, Any]]:
    """The budget probes of a results folder: every cell under ``out/probes/*/`` in brief.

    A probe folder is an ``il-datasets benchmark --budget-scale K --out OUT/probes/NAME`` run;
    its cells record their ``budget_scale``. Cells there without one (the protocol's budget), and
    config probes (``--set``: another config, not only another budget), are left out.

    Raises:
        ReportFormatError: a cell file without the structure a report reads (file and field
            named, as :func:`~.runner.finished_results` reads it).
        ProbeFormatError: a cell without a valid env, method, seed, scale or finite performance.
    """
    from imitation_datasets.benchmark.runner import finished_results

    root = Path(out) / "probes"
    if not root.is_dir():
        return []
    records = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "cells").is_dir()):
        cells, facts = finished_results(folder)
        for c in cells:
            fields = {k: c.get(k) for k in ("env", "method", "seed", "budget_scale",
                                             "performance")}
            if not (isinstance(c.get("env"), str) and isinstance(c.get("method"), str)
                    and is_int(c.get("seed")) and is_number(c.get("budget_scale", 1))
                    and is_finite_number(c.get("performance"))):
                raise ProbeFormatError(f"{folder}: a cell has no valid env, method, seed, "
                                       f"budget_scale or performance: {short_repr(fields)}")
            if c.get("budget_scale", 1) != 1 and not c.get("config_overrides"):  # a budget alone
                records.append({"env": c["env"], "method": c["method"],
                                "demos": cell_demos_count(c, facts[c["env"]]), "seed": c["seed"],
                                "budget_scale": float(c["budget_scale"]),
                                "performance": float(c["performance"]), "probe": folder.name})
    return records


def _demos(target: Target, env: str) -> int:
    return target.demos if target.demos is not None else env_protocol(env).train_episodes


def _scores(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]], method: str,
            env: str, demos: int) -> list[float]:
    """Performance of ``method`` on ``env`` at ``demos``, one per training seed (seed order)."""
    return [float(c["performance"]) for c in sorted(cells, key=lambda c: c["seed"])
            if c["env"] == env and c["method"] == method
            and cell_demos_count(c, envs[env]) == demos]


def _curve(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]], method: str,
           env: str) -> list[dict[str, Any]]:
    """The method's mean performance at every demonstration count it ran on ``env``."""
    counts = sorted({cell_demos_count(c, envs[env]) for c in cells
                     if c["env"] == env and c["method"] == method})
    return [{"demos": n, "mean": statistics.fmean(s), "seeds": len(s)}
            for n in counts if (s := _scores(cells, envs, method, env, n))]


def _budget(probes: Sequence[dict[str, Any]], method: str, env: str, demos: int,
            goal: float | None) -> dict[str, Any]:
    """What the budget probes of (method, env, demos) say about the budget the goal needs."""
    mine = [p for p in probes if (p["method"], p["env"], p["demos"]) == (method, env, demos)]
    scales = sorted({p["budget_scale"] for p in mine})
    points = [{"scale": k, "mean": statistics.fmean(v), "seeds": len(v)} for k in scales
              if (v := [p["performance"] for p in mine if p["budget_scale"] == k])]
    reached = [p["scale"] for p in points if goal is not None and p["mean"] >= goal]
    return {"probes": points, "reached_at": min(reached) if reached else None}


def _row(target: Target, method: str, env: str, scores: list[float], goal: float | None,
         cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
         probes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    demos = _demos(target, env)
    mean = statistics.fmean(scores) if scores else None
    if not scores:
        verdict = "not run"
    elif len(scores) < target.seeds or goal is None:
        verdict = "pending"
    else:
        reach = Aggregate.of(scores).ci_high if target.versus else statistics.fmean(scores)
        verdict = "met" if reach >= goal else "missed"
    facts = envs.get(env, {})
    expert = (performance(facts["expert_test_return"], facts["random_return"],
                          facts["expert_return"])
              if facts.get("expert_test_return") is not None else None)
    row: dict[str, Any] = {"method": method, "env": env, "demos": demos, "goal": goal,
                           "mean": mean, "seeds": len(scores), "verdict": verdict,
                           "expert": expert}
    if verdict != "met" and env in envs:
        row["curve"] = _curve(cells, envs, method, env)
        if mean is not None and (goal is None or mean < goal):
            row["budget"] = _budget(probes, method, env, demos, goal)
    return row


def _goal(target: Target, method: str, env: str, cells: Sequence[dict[str, Any]],
          envs: dict[str, dict[str, Any]]) -> float | None:
    """The score to reach; ``None`` while a ``versus`` method lacks the seeds it needs."""
    if target.threshold is not None:
        return target.threshold
    if target.anchor is not None:
        return anchor_sources()[target.anchor].scores[method][env]
    assert target.versus is not None
    other = _scores(cells, envs, target.versus, env, _demos(target, env)) if env in envs else []
    return statistics.fmean(other) if len(other) >= target.seeds else None


def targets(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]],
            probes: Sequence[dict[str, Any]] = (), table: dict[str, Target] | None = None
            ) -> list[dict[str, Any]]:
    """The verdict of every target row on the families ``envs`` holds (module docstring).

    ``table``: the targets to judge (default: :func:`target_table`'s). A probe's folder
    (cells with a ``budget_scale`` or ``config_overrides``) is not the protocol and judges no
    target.
    """
    if is_probe(cells):
        return []
    held = {env for members in env_families().values() if set(members) & set(envs)
            for env in members}
    found = []
    for key, target in (target_table() if table is None else table).items():
        target_envs = [e for e in expand_families(target.envs) if e in held]
        if not target_envs:
            continue
        rows = []
        for env in target_envs:
            demos = _demos(target, env)
            candidates = [
                _row(target, m, env, _scores(cells, envs, m, env, demos) if env in envs else [],
                     _goal(target, m, env, cells, envs), cells, envs, probes)
                for m in target.methods]
            if target.best_of:
                best = _best(candidates, target.seeds)
                unrun = [r["method"] for r in candidates if not r["seeds"]]
                candidates = [{**best, "not_run": [m for m in unrun if m != best["method"]]}]
            rows += candidates
        found.append({"target": key, "issue": target.issue, "text": target.text,
                      "seeds_needed": target.seeds, "rows": rows,
                      "verdicts": {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}})
    return found


def _best(rows: list[dict[str, Any]], seeds: int) -> dict[str, Any]:
    """The row that decides a best-of target.

    The best method (highest mean) among those with the seeds needed when it meets the goal;
    otherwise a method still short of its seeds whose mean so far is higher (the verdict is not
    final: pending); otherwise that best method (missed), or the best pending one, or the first
    (not run).
    """
    full = [r for r in rows if r["seeds"] >= seeds]
    partial = [r for r in rows if 0 < r["seeds"] < seeds]
    best = max(full, key=lambda r: r["mean"]) if full else None
    if best is not None and best["verdict"] == "met":
        return best
    rising = max(partial, key=lambda r: r["mean"]) if partial else None
    if rising is not None and (best is None or rising["mean"] > best["mean"]):
        return rising
    return best or rows[0]


def _budget_note(row: dict[str, Any], seeds: int) -> str:
    """What the budget probes say, or the command that would make one.

    The command probes the ``seeds`` training seeds the target's mean is over.
    """
    budget = row.get("budget")
    if budget is None:
        return "–"
    shown = ", ".join(f"×{p['scale']:g}: {p['mean']:.3f} ({p['seeds']})"
                      for p in budget["probes"])
    if budget["reached_at"] is not None:
        return f"reaches the goal at ×{budget['reached_at']:g} the budget ({shown})"
    if budget["probes"]:
        return f"not a budget shortfall up to ×{budget['probes'][-1]['scale']:g} ({shown})"
    return (f"no probe yet: `il-datasets benchmark --methods {row['method']} --envs "
            f"{row['env']} --demos {row['demos']} --seeds {seeds} --budget-scale 2 --out "
            "DIR/probes/x2`")


def target_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the targets' verdicts, one table per target (empty when none applies)."""
    found = results.get("targets") or []
    if not found:
        return []
    lines = ["", "Targets of the issues, judged from these cells (`benchmark/targets.yaml`, "
             "written before the cells ran): met / missed once the seeds a target needs have "
             "run, pending before (mean so far). A row not met shows the method's curve (mean "
             "performance (seeds) by demonstration episodes) and, where it falls short, the "
             "budget it would need from the budget probes in `probes/` (`--budget-scale K`: K "
             "times the method's training budget, nothing else changed; `DIR` in a command is this "
             "results folder). \"Expert itself\" is the curated expert's performance on the same "
             "test seeds: a goal above it asks a clone to beat its teacher."]
    for target in found:
        counts = _counts(target)
        lines += ["", f"**{target['text']}** (issue {target['issue']}, ≥ "
                  f"{target['seeds_needed']} seeds): {counts}.", "",
                  "| Method | Environment | Goal | Ours (seeds) | Verdict | Expert itself | "
                  "Curve | Budget |", "|---|---|---|---|---|---|---|---|"]
        for row in target["rows"]:
            env_id = _env_id(results, row["env"])
            goal = "–" if row["goal"] is None else f"{row['goal']:.3f}"
            ours = "–" if row["mean"] is None else f"{row['mean']:.3f} ({row['seeds']})"
            curve = " · ".join(f"{p['demos']}: {p['mean']:.3f} ({p['seeds']})"
                               for p in row.get("curve", [])) or "–"
            expert = "–" if row.get("expert") is None else f"{row['expert']:.3f}"
            budget = _budget_note(row, target["seeds_needed"])
            lines.append(f"| {_method_label(row)} | {env_id} | {goal} | {ours} | "
                         f"{row['verdict']} | {expert} | {curve} | {budget} |")
    return lines + [""]


def target_summary_lines(results: dict[str, Any]) -> list[str]:
    """A short list of the targets: verdict counts, the rows missed and those below so far.

    The README's view of the report's targets section (:func:`target_lines` has the curves
    and budgets).
    """
    lines = []
    for target in results.get("targets") or []:
        counts = _counts(target)
        parts = []
        for label, rows in (
                ("missed", [r for r in target["rows"] if r["verdict"] == "missed"]),
                ("below so far", [r for r in target["rows"] if r["verdict"] == "pending"
                                  and r["goal"] is not None and r["mean"] < r["goal"]])):
            if rows:
                parts.append(f"{label}: " + ", ".join(
                    f"{_method_label(r)} on {_env_id(results, r['env'])} {r['mean']:.3f} "
                    f"({r['seeds']})" for r in rows))
        detail = "; ".join(parts)
        lines.append(f"- {target['text']} (issue {target['issue']}, ≥ "
                     f"{target['seeds_needed']} seeds): {counts}" + (f". {detail}" if detail
                                                                    else ""))
    return lines


def _counts(target: dict[str, Any]) -> str:
    """``"3 met, 1 missed"``: how many rows of a target got each verdict."""
    return ", ".join(f"{n} {v}" for v, n in target["verdicts"].items() if n)


def _method_label(row: dict[str, Any]) -> str:
    """The row's method, and for a best-of row the listed methods that never ran."""
    others = row.get("not_run") or []
    return row["method"].upper() + (f" (not run: {', '.join(m.upper() for m in others)})"
                                    if others else "")


def _env_id(results: dict[str, Any], env: str) -> str:
    return (results["envs"][env]["env_id"] if env in results["envs"]
            else env_protocol(env).env_id)
