"""HuggingFace interop: ``datasets.Dataset`` conversions, hub folders, hub repo ids.

Also the paper's ``baseline_to_huggingface``/``huggingface_to_baseline``, ``push_to_hub``, and
loading a hub repo id (offline once cached).

The steps go in the hub layout (``hub_layout.py``: the original's ``obs``, ``actions``,
``rewards``, ``episode_starts`` plus ours). A ``datasets.Dataset`` made by
:func:`to_hf_dataset` carries our metadata as JSON in ``info.description``; a hub folder carries
it as ``metadata.json`` beside ``data/<split>-00000-of-00001.parquet`` and a ``README.md``
dataset card whose ``configs`` make ``datasets.load_dataset(repo)`` read exactly the data file.

``datasets`` and ``huggingface_hub`` are imported only when one of these functions runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.hub_layout import (
    apply_metadata,
    checked_metadata,
    columns_from_table,
    hub_table,
    write_hub_parquet,
    write_jsonl,
)
from imitation_datasets.data.metadata import write_metadata
from imitation_datasets.data.original import arrays_from_columns, columns_from_arrays
from imitation_datasets.data.safe_read import read_json, require_regular
from imitation_datasets.data.schema import DatasetFormatError
from imitation_datasets.data.sources import LoadedData, load_local, load_source
from imitation_datasets.safe_paths import contained_path

README_FILE = "README.md"
SAVED_INFO, SAVED_STATE, SAVED_DICT = "dataset_info.json", "state.json", "dataset_dict.json"


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


def _description_metadata(dataset: Any, origin: str) -> dict[str, Any] | None:
    """Our metadata from ``info.description`` (None when it is not ours), checked like a file."""
    text = getattr(getattr(dataset, "info", None), "description", "") or ""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError, RecursionError):
        return None
    return checked_metadata(data, f"{origin} (info.description)")


def from_hf_dataset(dataset: Any, origin: str = "HuggingFace dataset",
                    base_dir: str | Path | None = None
                    ) -> tuple[DatasetArrays, dict[str, Any] | None]:
    """Arrays (and our metadata, when attached) of a ``datasets.Dataset`` in the hub layout.

    Reads the Arrow table directly (no per-row Python loop): linear in the size.

    Args:
        dataset: a ``datasets.Dataset`` (one split).
        origin: what to call it in error messages.
        base_dir: folder that image paths are relative to (image observations only).
    """
    if isinstance(getattr(dataset, "num_rows", None), dict):
        raise TypeError(
            f"got a DatasetDict with splits {sorted(dataset.num_rows)}; pass one split, "
            "e.g. dataset['train']"
        )
    if not hasattr(dataset, "with_format"):
        raise TypeError(f"expected a datasets.Dataset, got {type(dataset).__name__}")
    table = dataset.with_format("arrow")[:]
    metadata = _description_metadata(dataset, origin)
    columns = columns_from_table(table, origin, None if base_dir is None else Path(base_dir))
    return arrays_from_columns(apply_metadata(columns, metadata, origin), origin), metadata


def huggingface_to_baseline(dataset: Any) -> dict[str, np.ndarray]:
    """Paper API: a HuggingFace dataset as the ``teacher.npz`` layout (a dict of arrays).

    Keys: ``obs``, ``actions``, ``rewards``, ``episode_starts``, ``episode_returns``, plus ours
    (``terminated``, ``truncated``, ``seeds``, ``attempts``, and ``final_obs`` when known).
    Unlike the original (quadratic ``np.append`` per row), this is one pass over Arrow columns.
    """
    arrays, _ = from_hf_dataset(dataset)
    return columns_from_arrays(arrays)


def load_saved_dataset(directory: Path, hf_split: str = "train") -> LoadedData:
    """A folder written by ``datasets.Dataset(Dict).save_to_disk``.

    Every path the folder's JSON names (a split folder in ``dataset_dict.json``, the Arrow
    files in ``state.json``) is checked to lie inside the folder before ``datasets`` opens it.

    Raises:
        DatasetFormatError: a path leading outside the folder (absolute, ``..``, symlink), a
            missing or irregular file, or data ``datasets`` cannot read.
        ValueError: ``hf_split`` is not one of a ``DatasetDict``'s splits.
    """
    import datasets

    folder = _saved_split_folder(directory, hf_split)
    _check_saved_files(folder)
    try:
        loaded = datasets.Dataset.load_from_disk(str(folder))
    except Exception as exc:  # noqa: BLE001 - anything datasets raises, as one line
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise DatasetFormatError(f"{directory}: unreadable saved dataset ({message})") from None
    arrays, metadata = from_hf_dataset(loaded, str(directory), directory)
    return LoadedData(arrays, metadata, str(directory))


def _saved_split_folder(directory: Path, hf_split: str) -> Path:
    """The folder of the saved ``Dataset`` to read (``directory`` or one of its splits)."""
    if all((directory / name).exists() for name in (SAVED_INFO, SAVED_STATE)):
        return directory
    index = directory / SAVED_DICT
    if not index.exists():
        raise DatasetFormatError(f"{directory}: neither a saved Dataset ({SAVED_INFO} + "
                                 f"{SAVED_STATE}) nor a saved DatasetDict ({SAVED_DICT})")
    splits = read_json(index)
    splits = splits.get("splits") if isinstance(splits, dict) else None
    if not isinstance(splits, list) or not all(isinstance(s, str) for s in splits):
        raise DatasetFormatError(f"{index}: 'splits' must be a list of split names")
    if hf_split not in splits:
        raise ValueError(f"hf_split={hf_split!r} not in {directory}; it has {splits}")
    return contained_path(directory, hf_split, source=str(index), field="splits entry",
                          error=DatasetFormatError)


def _check_saved_files(folder: Path) -> None:
    """Refuse a saved ``Dataset`` whose JSON names files outside ``folder`` or irregular ones."""
    read_json(folder / SAVED_INFO)  # bounded and regular, before datasets reads it unbounded
    state_file = folder / SAVED_STATE
    state = read_json(state_file)
    files = state.get("_data_files") if isinstance(state, dict) else None
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
        raise DatasetFormatError(f"{state_file}: '_data_files' must be a non-empty list of "
                                 "{'filename': ...} objects")
    for entry in files:
        path = contained_path(folder, entry.get("filename"), source=str(state_file),
                              field="_data_files filename", error=DatasetFormatError)
        require_regular(path)


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


# ---------------------------------------------------------------------------- hub repo ids
def load_from_hub(repo_id: str, hf_split: str = "train", *, revision: str | None = None,
                  cache_dir: str | Path | None = None) -> LoadedData:
    """Load a hub dataset repo from the hub cache, else through ``datasets.load_dataset``.

    The hub cache is filled by ``snapshot_download`` when online; ``datasets`` has its own cache,
    which also works offline.

    With ``HF_HUB_OFFLINE=1`` nothing is downloaded: a repo that was loaded once is read from the
    local caches.
    """
    origin = f"hf://datasets/{repo_id}"
    errors = []
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo_id, repo_type="dataset", revision=revision,
                                   cache_dir=None if cache_dir is None else str(cache_dir))
    except Exception as exc:  # noqa: BLE001 - not cached and offline, unknown repo, no network
        errors.append(f"hub cache: {type(exc).__name__}: {exc}")
    else:
        return load_local(Path(folder), hf_split, origin)
    try:
        import datasets

        dataset = datasets.load_dataset(repo_id, split=hf_split, revision=revision)
    except Exception as exc:  # noqa: BLE001 - reported below with the first error
        errors.append(f"datasets: {type(exc).__name__}: {exc}")
        raise DatasetFormatError(
            f"{repo_id}: could not load the HuggingFace dataset ({'; '.join(errors)}). Offline, "
            "a repo must have been downloaded once (HF_HUB_OFFLINE=1 reads the local cache)"
        ) from None
    arrays, metadata = from_hf_dataset(dataset, origin)
    return LoadedData(arrays, metadata, origin)
