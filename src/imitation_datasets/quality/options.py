"""The options of the quality metrics and the dataset report (light: the CLI imports them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from imitation_datasets.core.config import option
from imitation_datasets.core.errors import ConfigError


@dataclass(frozen=True)
class QualityOptions:
    """How the metrics are estimated."""

    sample_size: int = option(4000, "steps drawn (seeded) for the state, action, transition "
                                    "and expert metrics")
    seed: int = option(0, "seed of the subsample and of the permutation test")
    k: int = option(10, "neighbours of the k-NN estimators")
    expert: str | None = option(None, "curated expert to compare with (default: the dataset's, "
                                      "else its environment's)")
    duplicate_tolerance: float = option(0.01, "near-duplicate episodes: RMS distance of their "
                                              "signatures, in state standard deviations")
    outlier_iqr: float = option(3.0, "outliers lie beyond Tukey's fences Q1 - c IQR, Q3 + c IQR "
                                     "with this c")
    permutations: int = option(200, "permutations of the two-sample energy test (--against)")
    comparison_size: int = option(1000, "steps per dataset in the energy test (--against)")

    def __post_init__(self) -> None:
        for name in ("sample_size", "k", "comparison_size"):
            if getattr(self, name) < 2:
                raise ConfigError(f"{name} must be >= 2, got {getattr(self, name)}")
        if self.permutations < 0 or self.seed < 0:
            raise ConfigError("permutations and seed must be >= 0")
        if not (self.duplicate_tolerance >= 0 and self.outlier_iqr > 0):
            raise ConfigError("duplicate_tolerance must be >= 0 and outlier_iqr > 0")


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows beyond the metrics."""

    clips: int = option(4, "episodes shown as clips (best, median, worst return, then flagged)")
    frames: int = option(24, "frames per clip (evenly spaced steps)")
    width: int = option(240, "clip width in pixels (at most; frames are shrunk by an integer)")
    audit: int = option(20, "further episodes replayed without frames to check determinism")

    def __post_init__(self) -> None:
        if self.clips < 0 or self.audit < 0 or self.frames < 1 or self.width < 16:
            raise ConfigError("clips and audit must be >= 0, frames >= 1, width >= 16")


def default_out(path: str | Path) -> Path:
    """``<dataset>-report.html`` beside the dataset (a dataset folder is never written into)."""
    path = Path(path)
    return path.with_name(f"{path.name}-report.html")
