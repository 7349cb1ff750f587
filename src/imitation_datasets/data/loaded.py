""":class:`LoadedData`: what every dataset reader returns (arrays, metadata, origin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imitation_datasets.data.arrays import DatasetArrays


@dataclass
class LoadedData:
    """A dataset in memory: its arrays, its metadata and where it came from.

    ``metadata`` is ``None`` when the source has none; ``origin`` is a path,
    ``hf://datasets/<repo>`` or ``minari://<id>``.
    """

    arrays: DatasetArrays
    metadata: dict[str, Any] | None
    origin: str
