"""Dataset quality: metrics of one dataset, divergence between two, and the dataset report.

``dataset_quality(path)`` and ``compare_datasets(a, b)`` (:mod:`.measure`) give JSON-ready
metrics defined in ``docs/quality.md``; the CLI is ``il-datasets quality DIR [--against DIR2]``.
"""

from imitation_datasets.quality.measure import (
    QualityOptions,
    compare_datasets,
    dataset_quality,
    measure,
)

__all__ = ["QualityOptions", "compare_datasets", "dataset_quality", "measure"]
