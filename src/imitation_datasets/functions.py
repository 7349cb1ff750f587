"""Paper-compatible import path for the default ``enjoy``/``collate`` functions."""

from imitation_datasets.collect.functions import (
    DatasetCollate,
    RecordingEnjoy,
    baseline_collate,
    baseline_enjoy,
    collate,
    enjoy,
    random_enjoy,
)

__all__ = [
    "DatasetCollate",
    "RecordingEnjoy",
    "baseline_collate",
    "baseline_enjoy",
    "collate",
    "enjoy",
    "random_enjoy",
]
