"""Put several results bundles in one report, only where their numbers are comparable.

Two bundles' cells share a table when, for every environment both ran, the protocol hash and
the fingerprints of the expert dataset, the random dataset and the expert card agree
(:data:`~imitation_datasets.benchmark.provenance.COMPARED`); otherwise :func:`merge` refuses,
naming the bundle, the environment and the first field that differs. With ``apart=True`` the
other bundle's cells on such an environment are shown as ``method@label`` rows instead, and the
report lists what differed. A cell present in two bundles must have the same numbers (the
benchmark is deterministic); it is then shown once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.provenance import COMPARED, env_provenance
from imitation_datasets.benchmark.report import (
    RESULTS_JSON,
    summarise,
    validate_results,
    write_report,
)
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.safe_read import read_json

NUMBERS = ("test_returns", "aer", "performance")
"""Fields of a cell that must agree when two bundles hold the same cell."""


class CompareError(OneLineError, ValueError):
    """Bundles whose cells cannot share a table (different protocol, data or numbers)."""


@dataclass(frozen=True)
class Bundle:
    """One results file and the short label its rows get when shown apart."""

    label: str
    path: Path
    results: dict[str, Any]


def load_bundles(paths: Sequence[str | Path]) -> list[Bundle]:
    """Read and check each results file; labels are the folder (or file) names, made unique.

    Raises:
        DatasetFormatError: a file is missing or not JSON.
        ReportFormatError: a file is not a benchmark results file (the first wrong field).
    """
    bundles: list[Bundle] = []
    for path in map(Path, paths):
        results = read_json(path)
        validate_results(results, str(path))
        label = path.parent.name if path.name == RESULTS_JSON and path.parent.name else path.stem
        taken = {b.label for b in bundles}
        unique, n = label, 2
        while unique in taken:
            unique, n = f"{label}{n}", n + 1
        bundles.append(Bundle(unique or f"bundle{len(bundles) + 1}", path, results))
    return bundles


def differences(facts: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """The comparability fields of one environment that differ (or are missing) between two."""
    mine, theirs = env_provenance(facts), env_provenance(other)
    found = []
    for name in COMPARED:
        if mine[name] is None or theirs[name] is None:
            found.append(f"{name} not recorded")
        elif mine[name] != theirs[name]:
            found.append(f"{name} {mine[name][:12]} vs {theirs[name][:12]}")
    return found


def _key(cell: dict[str, Any]) -> tuple[Any, ...]:
    return cell["env"], cell["method"], cell.get("demos"), cell["seed"]


def merge(bundles: Sequence[Bundle], apart: bool = False
          ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    """The cells and env facts of all bundles in one table, and notes on what was shown apart.

    Raises:
        CompareError: one line naming the bundle, environment and first difference (without
            ``apart``), or a cell with other numbers than the same cell of an earlier bundle.
    """
    envs: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}
    cells: dict[tuple[Any, ...], dict[str, Any]] = {}
    notes: list[str] = []
    for bundle in bundles:
        renamed = set()
        for env, facts in bundle.results["envs"].items():
            if env not in envs:
                envs[env], origin[env] = facts, bundle.path
                continue
            found = differences(envs[env], facts)
            if found and not apart:
                raise CompareError(
                    f"{bundle.path}: {env}: {found[0]} in {origin[env]} (not the same protocol "
                    "or data; --apart shows them side by side)")
            if found:
                renamed.add(env)
                notes.append(f"{bundle.label} on {env}: {', '.join(found)} (rows "
                             f"method@{bundle.label})")
        for cell in bundle.results["cells"]:
            if cell["env"] in renamed:
                cell = {**cell, "method": f"{cell['method']}@{bundle.label}"}
            earlier = cells.get(_key(cell))
            if earlier is None:
                cells[_key(cell)] = cell
            elif any(earlier.get(k) != cell.get(k) for k in NUMBERS):
                raise CompareError(
                    f"{bundle.path}: cell {cell['env']}/{cell['method']} seed {cell['seed']} has "
                    "other numbers than the same cell of an earlier bundle")
    return list(cells.values()), envs, notes


def compare(paths: Sequence[str | Path], out: str | Path, apart: bool = False) -> Path:
    """Write one report (JSON, Markdown, plots, results page) of every bundle's cells.

    Raises:
        CompareError: see :func:`merge`.
    """
    bundles = load_bundles(paths)
    cells, envs, notes = merge(bundles, apart)
    compared = [{"label": b.label, "path": str(b.path), "cells": len(b.results["cells"]),
                 "methods": sorted({c["method"] for c in b.results["cells"]})}
                for b in bundles]
    return write_report(summarise(cells, envs, {"compared": compared, "apart": notes}), out)
