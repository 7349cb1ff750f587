"""HuggingFace interop, the public functions: any dataset to ``datasets``, hub folders, the hub.

Also the paper's ``baseline_to_huggingface``/``huggingface_to_baseline``. Each accepts anything
``BaselineDataset`` reads (or arrays, or ``LoadedData``) and calls a storage backend
(:mod:`~imitation_datasets.data.storage`): ``hub`` (``hub_folder.py``) for folders and files,
``hf`` (``hf_datasets.py``) for ``datasets`` objects. ``datasets`` and ``huggingface_hub`` are
imported only when one of these functions runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from imitation_datasets.core.extras import require_extra
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.dataset_card import hub_card as dataset_card
from imitation_datasets.data.hf_datasets import (  # re-exported: the public HuggingFace API
    from_hf_dataset,
    huggingface_to_baseline,
    load_saved_dataset,
)
from imitation_datasets.data.hf_datasets import to_hf_dataset as _dataset_of
from imitation_datasets.data.hub_folder import HubLayout
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.sources import as_loaded, load_from_hub

__all__ = [
    "baseline_to_huggingface", "dataset_card", "from_hf_dataset", "huggingface_to_baseline",
    "load_from_hub", "load_saved_dataset", "push_to_hub", "to_hf_dataset", "write_hub_folder",
]

Source = str | Path | DatasetArrays | LoadedData


def to_hf_dataset(source: Source, metadata: dict[str, Any] | None = None) -> Any:
    """A ``datasets.Dataset`` (one row per step, hub layout) of any dataset we can load.

    Args:
        source: a dataset path (anything ``BaselineDataset`` reads locally), or arrays.
        metadata: metadata to attach when ``source`` is arrays.

    Returns:
        ``datasets.Dataset``; its ``info.description`` is our ``metadata.json`` (as JSON) when
        the dataset has one, so :func:`from_hf_dataset` restores every array.
    """
    return _dataset_of(as_loaded(source, metadata))


def baseline_to_huggingface(dataset_path: str | Path, new_path: str | Path) -> Path:
    """Paper API: convert a dataset (``teacher.npz`` or our directory) for the hub.

    ``new_path`` ending in ``.jsonl``/``.json`` gets JSON lines in the hub layout (what the
    original uploaded); ``.parquet`` one Parquet file; anything else becomes a hub folder
    (:func:`write_hub_folder`: Parquet + ``metadata.json`` + dataset card).

    Raises:
        ValueError: ``dataset_path`` or the folder of ``new_path`` does not exist.
    """
    source, target = Path(dataset_path), Path(new_path)
    if not source.exists():
        raise ValueError(f"'{source}' does not exist.")
    if not target.parent.exists():
        raise ValueError(f"'{target.parent}' does not exist.")
    return HubLayout().write(as_loaded(source), target)


def write_hub_folder(source: Source, folder: str | Path, *,
                     metadata: dict[str, Any] | None = None, split: str = "train") -> Path:
    """Write the folder :func:`push_to_hub` uploads.

    Layout: ``data/<split>-0000i-of-0000N.parquet`` (hub layout; one shard below ~512 MB of
    rows, written a batch at a time), ``metadata.json`` (when the
    dataset has metadata) and ``README.md`` (dataset card with ``configs``).
    ``BaselineDataset(folder)`` and ``datasets.load_dataset(folder)`` both read it.
    """
    return HubLayout().write_folder(as_loaded(source, metadata), folder, split=split)


def push_to_hub(source: Source, repo_id: str, *, split: str = "train",
                private: bool | None = None, token: str | None = None,
                revision: str | None = None, commit_message: str | None = None) -> Any:
    """Upload a dataset to the HuggingFace hub as a dataset repo (created if needed).

    Writes :func:`write_hub_folder` to a temporary folder and uploads it with
    ``huggingface_hub.HfApi.upload_folder``.

    Returns:
        the ``CommitInfo`` of the upload.
    """
    require_extra("hf", "push_to_hub", ("huggingface_hub",))
    from huggingface_hub import HfApi

    loaded = as_loaded(source)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="il-datasets-hub-") as tmp:
        write_hub_folder(loaded, tmp, split=split)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        return api.upload_folder(
            folder_path=tmp, repo_id=repo_id, repo_type="dataset", revision=revision,
            commit_message=commit_message or f"Upload {split} split with imitation_datasets",
        )
