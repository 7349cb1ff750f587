"""Dataset quality: metrics of one dataset, divergence between two, and the dataset report.

``dataset_quality(path)`` and ``compare_datasets(a, b)`` (:mod:`.measure`) give JSON-ready
metrics defined in ``docs/quality.md``; the CLI is ``il-datasets quality DIR [--against DIR2]``
and ``il-datasets report DIR``. The names below load on first use, so importing
:mod:`.options` (the CLI does, for ``--help``) loads neither SciPy nor Gymnasium.
"""

from __future__ import annotations

import importlib
from typing import Any

from imitation_datasets.quality.options import QualityOptions, ReportOptions

LAZY = {"compare_datasets": "measure", "dataset_quality": "measure", "measure": "measure",
        "dataset_report": "report"}
"""Public names and the submodule that defines each."""

__all__ = ["QualityOptions", "ReportOptions", *LAZY]


def __getattr__(name: str) -> Any:
    if name in LAZY:
        return getattr(importlib.import_module(f"{__name__}.{LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
