"""Published numbers beside ours: ``anchors.yaml`` and the report's comparison with them.

Each source (a paper's or a library's published table) is compared with our cells at its
number of demonstration episodes, on its own scale (:data:`METRICS`). Their environment
versions, experts and demonstrations differ from ours, so the comparison is context, not a
replication; the report says so. A (method, env) of a source that this folder never ran at
that number of demonstrations is listed as not run, so a gap cannot hide.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from imitation_datasets.benchmark.protocol import cell_demos_count
from imitation_datasets.core.config import from_mapping, read_yaml
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.metrics import Aggregate

ANCHORS_FILE = Path(__file__).with_name("anchors.yaml")
METRICS = {
    "normalised": "(R − R_random) / (R_expert − R_random), our performance",
    "expert_fraction": "R / R_expert (ours: over the dataset's mean return)",
    "return": "episode return",
}
"""The scales a source can publish on, and what ours is on that scale."""


@dataclass(frozen=True)
class AnchorSource:
    """One published table: its scores by method and env (our method and expert keys)."""

    title: str
    setting: str
    metric: Literal["normalised", "expert_fraction", "return"]
    demos: int
    scores: dict[str, dict[str, float]]
    expert_returns: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _AnchorsFile:
    sources: dict[str, AnchorSource] = field(default_factory=dict)


@functools.cache
def anchor_sources(path: Path = ANCHORS_FILE) -> dict[str, AnchorSource]:
    """The published sources, by key, in file order.

    Raises:
        ConfigError: an unknown key, a wrong type, or a ``return`` source without its
            expert's return for an env it scores.
    """
    sources = from_mapping(_AnchorsFile, read_yaml(path), path.name).sources
    for key, source in sources.items():
        if source.metric == "return":
            missing = {env for scores in source.scores.values() for env in scores
                       } - set(source.expert_returns)
            if missing:
                raise ConfigError(f"{path.name} [sources.{key}]: no expert_returns for "
                                  f"{sorted(missing)}")
    return sources


def _ours(cell: dict[str, Any], facts: dict[str, Any], metric: str) -> float:
    """A cell's score on a source's scale."""
    if metric == "normalised":
        return float(cell["performance"])
    if metric == "expert_fraction":
        return float(cell["aer"]) / float(facts["expert_return"])
    return float(cell["aer"])


def anchors(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """One row per published (source, method, env) whose env is in ``envs``.

    ``ours`` aggregates our cells at the source's number of demonstrations on its scale
    (``None``: not run); ``at_least`` says whether our mean reaches theirs.
    """
    rows = []
    for key, source in anchor_sources().items():
        for method, scores in source.scores.items():
            for env, theirs in scores.items():
                if env not in envs:
                    continue
                runs = sorted((c for c in cells if c["env"] == env and c["method"] == method
                               and cell_demos_count(c, envs[env]) == source.demos),
                              key=lambda c: c["seed"])
                ours = (Aggregate.of([_ours(c, envs[env], source.metric) for c in runs])
                        if runs else None)
                row: dict[str, Any] = {
                    "source": key, "method": method, "env": env, "demos": source.demos,
                    "metric": source.metric, "theirs": theirs,
                    "ours": asdict(ours) if ours else None, "seeds": [c["seed"] for c in runs],
                    "at_least": None if ours is None else bool(ours.mean >= theirs)}
                if source.metric == "return":
                    row["their_expert"] = source.expert_returns[env]
                    row["our_expert"] = envs[env]["expert_return"]
                rows.append(row)
    return rows


def anchor_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the comparison with published numbers (empty when none applies)."""
    rows = results.get("anchors") or []
    if not rows:
        return []
    sources = anchor_sources()
    lines: list[str] = []
    for key in dict.fromkeys(r["source"] for r in rows):
        source, mine = sources[key], [r for r in rows if r["source"] == key]
        lines += ["", f"Published: {source.title}. {source.setting}; compared with our "
                  f"{source.demos}-demonstration cells on the scale {METRICS[source.metric]}. "
                  "Environment versions, experts and demonstrations differ from ours: context, "
                  "not a replication.", ""]
        expert = source.metric == "return"
        lines += ["| Method | Environment | Theirs | Ours (mean ± std [95 % CI]) | Seeds | "
                  "Ours ≥ theirs |" + (" Their expert | Our expert |" if expert else ""),
                  "|---|---|---|---|---|---|" + ("---|---|" if expert else "")]
        digits = 1 if expert else 3  # returns, or scores near 1
        for r in mine:
            env_id = results["envs"][r["env"]]["env_id"]
            o = r["ours"]
            ours = ("not run" if o is None else f"{o['mean']:.{digits}f} ± {o['std']:.{digits}f} "
                    f"[{o['ci_low']:.{digits}f}, {o['ci_high']:.{digits}f}]")
            verdict = "–" if r["at_least"] is None else ("yes" if r["at_least"] else "no")
            lines.append(f"| {r['method'].upper()} | {env_id} | {r['theirs']:.{digits}f} | "
                         f"{ours} | {len(r['seeds'])} | {verdict} |"
                         + (f" {r['their_expert']:.1f} | {r['our_expert']:.1f} |"
                            if expert else ""))
    return lines
