"""``il-datasets report DIR [--out FILE]``: a self-contained HTML page about a dataset.

Provenance, quality metrics, plots, the episode table with flags, and clips of selected
episodes replayed from their seeds, with a check that every replay reproduces the stored
observations and rewards. Exits with status 1 when a replay differs (the page says which).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.quality.options import QualityOptions, ReportOptions, default_out

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportTargets:
    """What ``il-datasets report`` reads and writes."""

    path: Path = field(metadata={"help": "a dataset (anything BaselineDataset reads)"})
    out: Path | None = field(default=None, metadata={
        "help": "the HTML file (default: <path>-report.html beside the dataset)"})


def run_report(targets: ReportTargets, report: ReportOptions, quality: QualityOptions,
               argv: Sequence[str] = ()) -> int:
    """Write the report; status 1 when a replayed episode does not match its stored data."""
    from imitation_datasets.quality.report import dataset_report

    result = dataset_report(targets.path, targets.out, report, quality)
    bad = result.mismatches
    print(f"wrote {result.path} ({result.path.stat().st_size // 1024} KiB; "
          f"{len(result.replayed)} episodes replayed, {len(bad)} differ)")
    if bad:
        logger.error("replay differs from the stored data for episodes %s",
                     ", ".join(map(str, bad)))
        return 1
    return 0


REPORT = Command("report", "write a self-contained HTML report of a dataset (metrics, plots, "
                 "episode table, replayed clips)",
                 (Options(ReportTargets), Options(ReportOptions),
                  Options(QualityOptions, skip=("permutations", "comparison_size"))),
                 run_report, target=lambda targets, *_: targets.out or default_out(targets.path))
