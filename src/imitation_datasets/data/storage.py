"""The storage seam: one protocol, one registry of backends.

Every on-disk (or hub, or Minari) form of a dataset is a :class:`Storage` backend: ``read`` gives
:class:`~imitation_datasets.data.loaded.LoadedData` (arrays + metadata + origin), ``write`` takes
one. Converting between formats is ``backend(a).read`` then ``backend(b).write``.

=========  ================================================  ==================================
name       reads                                             writes
=========  ================================================  ==================================
parquet    our dataset directory (``docs/format.md``)        the same
npz        ``teacher.npz`` (original layout or ours)         ``teacher.npz``
hub        hub-layout folders/files (a hub snapshot)         a hub folder (data, metadata,
                                                             card), or one .parquet/.jsonl
hf         a ``datasets`` ``save_to_disk`` folder            ``save_to_disk`` folder
minari     a Minari dataset id                               a Minari dataset
=========  ================================================  ==================================

Heavy libraries (``datasets``, ``huggingface_hub``, ``minari``, ``h5py``) are imported only when a
backend that needs them reads or writes. Which backend reads a path a user hands over is decided
in :mod:`~imitation_datasets.data.sources`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from imitation_datasets.core.names import unknown
from imitation_datasets.data.hf_datasets import HFDatasets
from imitation_datasets.data.hub_folder import HubLayout
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.minari_store import MinariStore
from imitation_datasets.data.npz import NpzFile
from imitation_datasets.data.parquet import ParquetFolder


class Storage(Protocol):
    """A dataset format: read a location into memory, write memory to a location."""

    name: str

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """The dataset at ``location``.

        ``split`` chooses one where the format has several; ``origin`` names the dataset in
        errors and in the result (default: the location).
        """
        ...

    def write(self, data: LoadedData, location: str | Path) -> Any:
        """Write ``data`` at ``location``; returns what was written (a path, a dataset)."""
        ...


BACKENDS: dict[str, Storage] = {
    backend.name: backend
    for backend in (ParquetFolder(), NpzFile(), HubLayout(), HFDatasets(), MinariStore())
}


def backend(name: str) -> Storage:
    """The backend called ``name`` (see the module docstring).

    Raises:
        UnknownNameError: naming the closest backends.
    """
    if name not in BACKENDS:
        raise unknown("storage backend", name, BACKENDS)
    return BACKENDS[name]
