"""README blocks made from a results folder's JSON, so that no published number is typed by hand.

A block is the text between ``<!-- results FOLDER KIND -->`` and ``<!-- end results -->``; its
content is regenerated from ``FOLDER/benchmark_results.json`` (a folder next to the README or
under one, like ``results_mujoco/probes/x2``; no part of it hidden or empty):

* ``matrix``: performance per method and env, mean ± std (n seeds);
* ``iqm``: the same with the IQM and its 95 % bootstrap CI;
* ``targets``: the issues' targets, verdict counts and the rows missed or below so far;
* ``plan``: how much of the planned grid of the folder's env families has run, finished /
  planned cells per method and number of demonstrations (nothing that has not run is hidden);
* ``seeds-METHOD``: that method's mean performance with every seed's score, one row per number
  of demonstrations, one column per env it ran;
* ``demos-ENV``: that env's sample efficiency, mean [95 % bootstrap CI] (n seeds) per method
  (rows) and number of demonstrations (columns), for the methods run on two counts or more.

``python benchmarks/readme_results.py`` rewrites the blocks; ``--check`` (and the test suite)
fails when a block differs from what the committed JSON gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from imitation_datasets.benchmark.plan import progress_lines
from imitation_datasets.benchmark.protocol import cell_demos_count
from imitation_datasets.benchmark.report import (
    CURVE_FOOTNOTE,
    RECOMPUTED,
    RESULTS_JSON,
    matrix_table,
    sample_efficiency_table,
    summarise,
    validate_results,
)
from imitation_datasets.benchmark.targets import target_summary_lines
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.safe_read import read_json

BLOCK = re.compile(r"(?P<start><!-- results (?P<folder>[A-Za-z0-9_./-]+) (?P<kind>[a-z_-]+) -->\n)"
                   r"(?P<body>.*?)(?P<end><!-- end results -->)", re.S)
KINDS = ("matrix", "iqm", "targets", "plan")
SEEDS = "seeds-"
"""The prefix of the per-seed kind: ``seeds-METHOD``."""
DEMOS = "demos-"
"""The prefix of the sample-efficiency kind: ``demos-ENV``."""


class ReadmeBlockError(OneLineError, ValueError):
    """A README block names an unknown kind or a folder without results."""


def block_lines(results: dict[str, Any], kind: str) -> list[str]:
    """The lines of one block kind made from a results file's content."""
    if kind == "matrix":
        return matrix_table(results)
    if kind == "iqm":
        return matrix_table(results, statistic="iqm")
    if kind == "targets":
        return target_summary_lines(results)
    if kind == "plan":
        lines = progress_lines(results)
        if not lines:
            raise ReadmeBlockError("README block: no planned grid for these results (a probe's "
                                   "folder, or envs of no family)")
        return lines[1:-1]  # without the blank lines around it in a report
    if kind.startswith(DEMOS):
        env = kind.removeprefix(DEMOS)
        if env not in (results.get("sample_efficiency") or {}):
            raise ReadmeBlockError(f"README block: no sample-efficiency curve for env {env!r} "
                                   "(no method ran it on two demonstration counts)")
        return sample_efficiency_table(results, env) + ["", CURVE_FOOTNOTE]
    return seed_table(results, kind.removeprefix(SEEDS))


def seed_table(results: dict[str, Any], method: str) -> list[str]:
    """``method``'s mean performance and each seed's, by demonstrations (rows) and env."""
    cells = [c for c in results["cells"] if c["method"] == method]
    envs = [e for e in results["envs"] if any(c["env"] == e for c in cells)]
    if not envs:
        raise ReadmeBlockError(f"README block: no {method!r} cells in the results")
    counts = sorted({cell_demos_count(c, results["envs"][c["env"]]) for c in cells},
                    reverse=True)
    lines = [f"| {method.upper()} | " + " | ".join(results["envs"][e]["env_id"] for e in envs)
             + " |", "|---|" + "---|" * len(envs)]
    for n in counts:
        row = []
        for env in envs:
            runs = sorted((c for c in cells if c["env"] == env
                           and cell_demos_count(c, results["envs"][env]) == n),
                          key=lambda c: c["seed"])
            row.append("not run" if not runs else
                       f"{sum(c['performance'] for c in runs) / len(runs):.3f} ("
                       + ", ".join(f"{c['performance']:.3f}" for c in runs) + ")")
        lines.append(f"| {n} demonstration{'s' * (n != 1)} | " + " | ".join(row) + " |")
    return lines


def render_blocks(text: str, root: Path) -> str:
    """``text`` with every block regenerated from the results folders under ``root``.

    Raises:
        ReadmeBlockError: an unknown kind, or a folder that is not a plain folder of ``root``
            holding a results file.
        ReportFormatError: a results file without the structure a report reads.
    """
    cache: dict[str, dict[str, Any]] = {}

    def results_of(folder: str) -> dict[str, Any]:
        if folder not in cache:
            path = root / folder / RESULTS_JSON
            hidden = any(part.startswith(".") or not part for part in folder.split("/"))
            if hidden or not path.is_file():
                raise ReadmeBlockError(f"README block: no {RESULTS_JSON} in folder {folder!r}")
            results = read_json(path)
            validate_results(results, str(path))
            # the derived keys are recomputed from the (checked) cells, as a report does
            rest = {k: v for k, v in results.items() if k not in RECOMPUTED}
            cache[folder] = summarise(results["cells"], results["envs"], rest)
        return cache[folder]

    def replace(match: re.Match[str]) -> str:
        kind = match["kind"]
        if kind not in KINDS and not kind.startswith((SEEDS, DEMOS)):
            raise ReadmeBlockError(f"README block: unknown kind {kind!r} (known: "
                                   f"{', '.join(KINDS)}, {SEEDS}METHOD, {DEMOS}ENV)")
        body = "\n".join(block_lines(results_of(match["folder"]), kind))
        return f"{match['start']}{body}\n{match['end']}"

    return BLOCK.sub(replace, text)
