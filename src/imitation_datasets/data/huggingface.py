"""HuggingFace interop: ``datasets.Dataset`` conversions, hub folders, hub repo ids.

Also the paper's ``baseline_to_huggingface``/``huggingface_to_baseline``, ``push_to_hub``, and
loading a hub repo id (offline once cached).

The steps go in the hub layout (``hub_layout.py``: the original's ``obs``, ``actions``,
``rewards``, ``episode_starts`` plus ours). A ``datasets.Dataset`` made by
:func:`to_hf_dataset` carries our metadata as JSON in ``info.description``; a hub folder carries
it as ``metadata.json`` beside ``data/<split>-00000-of-00001.parquet`` and a ``README.md``
dataset card whose ``configs`` make ``datasets.load_dataset(repo)`` read exactly the data file.

``datasets`` and ``huggingface_hub`` are imported only when one of these functions runs.
The readers live below the dataset loaders (``hf_read.py``, and ``load_from_hub`` in
``sources.py``); this module writes and converts any dataset path, so it sits above them and
re-exports the readers.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.hf_read import (  # re-exported: the public HuggingFace API
    from_hf_dataset,
    huggingface_to_baseline,
    load_saved_dataset,
)
from imitation_datasets.data.hub_layout import hub_table, write_hub_parquet, write_jsonl
from imitation_datasets.data.metadata import write_metadata
from imitation_datasets.data.sources import LoadedData, load_from_hub, load_source

__all__ = [
    "baseline_to_huggingface", "dataset_card", "from_hf_dataset", "huggingface_to_baseline",
    "load_from_hub", "load_saved_dataset", "push_to_hub", "to_hf_dataset", "write_hub_folder",
]

README_FILE = "README.md"


def _loaded(source: str | Path | DatasetArrays | LoadedData,
            metadata: dict[str, Any] | None) -> LoadedData:
    if isinstance(source, LoadedData):
        return source
    if isinstance(source, DatasetArrays):
        return LoadedData(source, metadata, "arrays")
    return load_source(source)


# ---------------------------------------------------------------------------- datasets.Dataset
def to_hf_dataset(source: str | Path | DatasetArrays | LoadedData,
                  metadata: dict[str, Any] | None = None) -> Any:
    """A ``datasets.Dataset`` (one row per step, hub layout) of any dataset we can load.

    Args:
        source: a dataset path (anything ``BaselineDataset`` reads locally), or arrays.
        metadata: metadata to attach when ``source`` is arrays.

    Returns:
        ``datasets.Dataset``; its ``info.description`` is our ``metadata.json`` (as JSON) when
        the dataset has one, so :func:`from_hf_dataset` restores every array.
    """
    import datasets
    from datasets.table import InMemoryTable

    loaded = _loaded(source, metadata)
    description = "" if loaded.metadata is None else json.dumps(loaded.metadata, allow_nan=False)
    info = datasets.DatasetInfo(description=description)
    return datasets.Dataset(InMemoryTable(hub_table(loaded.arrays)), info=info)


# ---------------------------------------------------------------------------- files and folders
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
    loaded = load_source(source)
    if target.suffix.lower() in (".jsonl", ".json"):
        return write_jsonl(loaded.arrays, target)
    if target.suffix.lower() == ".parquet":
        return write_hub_parquet(loaded.arrays, target)
    return write_hub_folder(loaded, target)


def dataset_card(metadata: dict[str, Any] | None, split: str = "train") -> str:
    """``README.md`` for a hub folder.

    YAML ``configs`` point at the data file; a short description from the metadata follows.
    """
    lines = [
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        f"  - split: {split}",
        f"    path: data/{split}-*.parquet",
        "tags:",
        "- imitation-learning",
        "- reinforcement-learning",
        "- il-datasets",
        "---",
        "",
    ]
    meta = metadata or {}
    env_id = meta.get("env", {}).get("id", "unknown environment")
    expert = meta.get("expert", {})
    returns = meta.get("returns", {})
    lines += [
        f"# {env_id} expert dataset",
        "",
        "Made with [imitation_datasets](https://github.com/NathanGavenski/IL-Datasets) "
        "(IL-Datasets layout: one row per step; `obs`, `actions`, `rewards`, `episode_starts`, "
        "plus `terminated`, `truncated`, `episode_index`, `step`, and `final_obs` on each "
        "episode's last step). Provenance is in `metadata.json`.",
        "",
        "| | |",
        "|---|---|",
        f"| environment | `{env_id}` |",
        f"| expert | `{expert.get('id', expert.get('kind', 'unknown'))}` |",
        f"| episodes | {meta.get('episodes', {}).get('count', '?')} |",
        f"| steps | {meta.get('total_steps', '?')} |",
        f"| return (mean ± std) | {returns.get('mean', '?')} ± {returns.get('std', '?')} |",
        "",
        "```python",
        "from imitation_datasets.dataset import BaselineDataset",
        "train = BaselineDataset('<repo id>', source='hf', n_episodes=100)",
        "evaluation = BaselineDataset('<repo id>', source='hf', n_episodes=100, split='eval')",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_hub_folder(source: str | Path | DatasetArrays | LoadedData, folder: str | Path, *,
                     metadata: dict[str, Any] | None = None, split: str = "train") -> Path:
    """Write the folder :func:`push_to_hub` uploads.

    Layout: ``data/<split>-00000-of-00001.parquet`` (hub layout), ``metadata.json`` (when the
    dataset has metadata) and ``README.md`` (dataset card with ``configs``).
    ``BaselineDataset(folder)`` and ``datasets.load_dataset(folder)`` both read it.
    """
    loaded = _loaded(source, metadata)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_hub_parquet(loaded.arrays, folder / "data" / f"{split}-00000-of-00001.parquet")
    if loaded.metadata is not None:
        write_metadata(folder, loaded.metadata)
    tmp = folder / f".{README_FILE}.{os.getpid()}.tmp"
    tmp.write_text(dataset_card(loaded.metadata, split), encoding="utf-8")
    os.replace(tmp, folder / README_FILE)
    return folder


def push_to_hub(source: str | Path | DatasetArrays | LoadedData, repo_id: str, *,
                split: str = "train", private: bool | None = None, token: str | None = None,
                revision: str | None = None, commit_message: str | None = None) -> Any:
    """Upload a dataset to the HuggingFace hub as a dataset repo (created if needed).

    Writes :func:`write_hub_folder` to a temporary folder and uploads it with
    ``huggingface_hub.HfApi.upload_folder``.

    Returns:
        the ``CommitInfo`` of the upload.
    """
    from huggingface_hub import HfApi

    loaded = _loaded(source, None)
    api = HfApi(token=token)
    with tempfile.TemporaryDirectory(prefix="il-datasets-hub-") as tmp:
        write_hub_folder(loaded, tmp, split=split)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        return api.upload_folder(
            folder_path=tmp, repo_id=repo_id, repo_type="dataset", revision=revision,
            commit_message=commit_message or f"Upload {split} split with imitation_datasets",
        )
