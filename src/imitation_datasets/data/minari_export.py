"""Export to Minari, the public function: any dataset ``BaselineDataset`` reads, as Minari.

The writing itself is the ``minari`` storage backend (:mod:`~imitation_datasets.data.minari_store`,
through ``minari.create_dataset_from_buffers``); reading Minari datasets is
:mod:`~imitation_datasets.data.minari_io`. ``minari`` is imported only when this runs.
"""

from __future__ import annotations

from typing import Any

from imitation_datasets.data.minari_io import minari_dataset_path
from imitation_datasets.data.minari_store import DEFAULT_FORMAT, write_minari
from imitation_datasets.data.sources import as_loaded


def to_minari(source: Any, dataset_id: str, *, author: str | None = None,
              author_email: str | None = None, code_permalink: str | None = None,
              description: str | None = None, data_format: str = DEFAULT_FORMAT,
              expert_return: float | None = None) -> Any:
    """Write a dataset as the Minari dataset ``dataset_id``.

    Args:
        source: a dataset path (anything ``BaselineDataset`` reads), or ``LoadedData``.
        dataset_id: Minari id, ``(namespace/)(env_name/)dataset_name-v<version>``, e.g.
            ``"il-datasets/cartpole/expert-v0"``.
        author: Minari's ``author`` metadata.
        author_email: Minari's ``author_email`` metadata.
        code_permalink: Minari's ``code_permalink`` metadata.
        description: Minari's ``description`` (default: env id and creation command).
        data_format: Minari storage backend, ``"hdf5"`` (Minari's default; the one TorchRL's
            ``MinariExperienceReplay`` reads) or ``"arrow"``.
        expert_return: ``ref_max_score`` when the dataset's metadata has no expert return
            (a random-policy dataset: pass the curated expert's mean return). Without either,
            no reference scores are written (never the dataset's own mean).

    Returns:
        the ``minari.MinariDataset``, stored under Minari's datasets folder
        (``MINARI_DATASETS_PATH``).

    Raises:
        DatasetFormatError: the dataset has no final observations (the original layout), which
            Minari episodes require; an invalid ``dataset_id``; env kwargs that are not plain
            values (a path-like argument).
        ValueError: a dataset with this id already exists.
    """
    minari_dataset_path(dataset_id)  # a bad id is refused before anything is loaded
    return write_minari(as_loaded(source), dataset_id, author=author, author_email=author_email,
                        code_permalink=code_permalink, description=description,
                        data_format=data_format, expert_return=expert_return)
