"""imitation_datasets: create, load and benchmark imitation-learning datasets.

The top-level names are IL-Datasets 1.0.0's (``from imitation_datasets import Controller,
baseline_enjoy, BC``...). They are imported on first use, so ``import imitation_datasets`` (and
the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "get_args": "imitation_datasets.args",
    "Controller": "imitation_datasets.controller",
    "Experts": "imitation_datasets.experts",
    "Policy": "imitation_datasets.experts",
    "EnjoyFunction": "imitation_datasets.utils",
    "CollateFunction": "imitation_datasets.utils",
    "Experiment": "imitation_datasets.utils",
    "Context": "imitation_datasets.utils",
    "GymWrapper": "imitation_datasets.utils",
    "enjoy": "imitation_datasets.functions",
    "collate": "imitation_datasets.functions",
    "baseline_enjoy": "imitation_datasets.functions",
    "baseline_collate": "imitation_datasets.functions",
    "random_enjoy": "imitation_datasets.functions",
    "BC": "imitation_datasets.baselines",
    "BCO": "imitation_datasets.baselines",
    "ABCO": "imitation_datasets.baselines",
    "IUPE": "imitation_datasets.baselines",
    "OfflineIQLearn": "imitation_datasets.baselines",
}
"""Name -> module of each top-level export (1.0.0's ``__init__``)."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a top-level export from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'imitation_datasets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
