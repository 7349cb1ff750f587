"""What every adapter to another library's data types accepts (``interop_*.py``).

An adapter takes anything ``BaselineDataset`` reads (a path), our arrays, ``LoadedData``, or a
``BaselineDataset`` itself (its selected episodes: a train/eval split exports only its split).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.sources import as_loaded

Source = str | Path | DatasetArrays | LoadedData | Any
"""A path, arrays, ``LoadedData``, or an object with a ``loaded()`` method (``BaselineDataset``)."""


def interop_source(source: Source, purpose: str) -> LoadedData:
    """``source`` in memory with numeric observations and final observations.

    Raises:
        DatasetFormatError: image files (decoded lazily, one at a time) or no final
            observations (the original layout), which ``purpose`` cannot hold.
    """
    loaded_method = getattr(source, "loaded", None)
    loaded = loaded_method() if callable(loaded_method) else as_loaded(source)
    if not isinstance(loaded.arrays.obs, np.ndarray):
        raise DatasetFormatError(f"{loaded.origin}: {purpose} needs numeric observations; this "
                                 "dataset stores image files (decode them first)")
    if loaded.arrays.final_obs is None:
        raise DatasetFormatError(
            f"{loaded.origin}: {purpose} needs every episode's final observation, which this "
            "dataset does not have (original IL-Datasets layout)")
    return loaded


__all__ = ["Source", "interop_source"]
