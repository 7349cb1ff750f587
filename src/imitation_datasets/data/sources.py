"""Resolve what a user hands to ``BaselineDataset`` to a storage backend, and read it.

=========================================  ===================================================
input                                      backend (:mod:`~imitation_datasets.data.storage`)
=========================================  ===================================================
our dataset directory (``metadata.json``   ``parquet``
+ ``steps.parquet``), or its steps file
``*.npz`` (original layout or ours), or a  ``npz``
folder holding exactly one
``*.parquet`` / ``*.jsonl`` in the hub     ``hub`` (``metadata.json`` beside them is used
layout, or a folder of them (a hub         when it is ours)
snapshot, our ``push_to_hub`` folder)
a ``datasets`` ``save_to_disk`` folder     ``hf``
a hub repo id (``source="hf"``)            :func:`load_from_hub`: the hub cache
                                           (``huggingface_hub``), else ``datasets``
a Minari dataset id (``source="minari"``)  ``minari``
=========================================  ===================================================

Everything read goes through :func:`~imitation_datasets.data.loaded.validate_loaded`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.core.safe_read import require_regular
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.hf_datasets import from_hf_dataset
from imitation_datasets.data.hub_folder import DATA_SUFFIXES, data_files
from imitation_datasets.data.loaded import LoadedData, validate_loaded
from imitation_datasets.data.mapped import is_mapped
from imitation_datasets.data.schema import METADATA_FILE, STEPS_FILE
from imitation_datasets.data.storage import backend

__all__ = ["LoadedData", "as_loaded", "detect", "load_from_hub", "load_local", "load_source",
           "normalize_source", "validate_loaded"]

SOURCES = {"local": "local", "hf": "hf", "huggingface": "hf", "minari": "minari"}


def normalize_source(source: str) -> str:
    """``"local"``, ``"hf"`` (also ``"huggingface"``) or ``"minari"``; anything else raises."""
    key = str(source).lower()
    if key not in SOURCES:
        raise ValueError(
            f"unknown source {source!r}; expected one of {', '.join(repr(s) for s in SOURCES)}"
        )
    return SOURCES[key]


def load_source(path: str | Path, source: str = "local", hf_split: str = "train", *,
                revision: str | None = None, cache_dir: str | Path | None = None,
                allow_nonfinite: bool = False) -> LoadedData:
    """Load any supported dataset (see the module docstring) into memory, validated.

    Args:
        path: a local file or directory, a HuggingFace hub repo id (``source="hf"``) or a Minari
            dataset id (``source="minari"``).
        source: ``"local"``, ``"hf"``/``"huggingface"`` or ``"minari"``. A path that exists is
            read locally whatever the source.
        hf_split: the split of a HuggingFace dataset (data files named after their split, as on
            the hub); our directories and npz files have only ``"train"``.
        revision: hub revision (branch, tag or commit) of a repo id.
        cache_dir: hub cache folder (default: HuggingFace's).
        allow_nonfinite: accept NaN/infinite observations, actions or rewards (refused by
            default: see :func:`~imitation_datasets.data.loaded.validate_loaded`).

    Raises:
        FileNotFoundError: a local path that does not exist.
        DatasetFormatError: a file that is corrupt, not in a supported layout, or whose data
            fails :func:`~imitation_datasets.data.loaded.validate_loaded`.
    """
    kind = normalize_source(source)
    local = Path(path).expanduser()
    if local.exists():
        loaded = load_local(local, hf_split)
    elif kind == "hf":
        loaded = load_from_hub(str(path), hf_split, revision=revision, cache_dir=cache_dir)
    elif kind == "minari":
        loaded = backend("minari").read(str(path))
    else:
        hint = " (for a HuggingFace hub repo id pass source='hf')" \
            if re.fullmatch(r"[\w.-]+/[\w.-]+", str(path)) else ""
        raise FileNotFoundError(f"No dataset at: {path}{hint}")
    return validate_loaded(loaded, allow_nonfinite=allow_nonfinite)


def as_loaded(source: str | Path | DatasetArrays | LoadedData,
              metadata: dict[str, Any] | None = None) -> LoadedData:
    """``source`` in memory: loaded data as it is, arrays with ``metadata``, or a path loaded."""
    if isinstance(source, LoadedData):
        return source
    if isinstance(source, DatasetArrays):
        return LoadedData(source, metadata, "arrays")
    return load_source(source)


def detect(path: Path, hf_split: str = "train") -> tuple[str, Path]:
    """The backend that reads the local ``path`` (see the module docstring), and its location.

    Raises:
        DatasetFormatError: nothing here is a dataset in a supported layout.
        ValueError: ``hf_split`` is not a split of the hub-layout files found.
    """
    if not path.is_dir():
        require_regular(path)
        suffix = path.suffix.lower()
        if suffix == ".npz":
            return "npz", path
        if path.name == STEPS_FILE and (path.parent / METADATA_FILE).is_file():
            return "parquet", path.parent
        if suffix in DATA_SUFFIXES:
            return "hub", path
        raise DatasetFormatError(
            f"{path}: unsupported file type {suffix!r}; expected a dataset directory, .npz, "
            ".parquet or .jsonl"
        )
    if (path / STEPS_FILE).exists() or is_mapped(path):
        # Ours; without metadata.json it is incomplete and read_parquet says so (a steps file
        # that is not a regular file is refused there, not mistaken for another layout).
        return "parquet", path
    if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
        return "hf", path
    if data_files(path, hf_split):
        return "hub", path
    npz = sorted(path.glob("*.npz"))
    if len(npz) == 1:
        return "npz", npz[0]
    if (path / METADATA_FILE).is_file():
        # Our metadata without steps.parquet: let read_parquet name what is missing.
        return "parquet", path
    raise DatasetFormatError(
        f"{path}: no dataset found (expected metadata.json + steps.parquet, a teacher.npz, "
        "or .parquet/.jsonl files in the IL-Datasets hub layout)"
    )


def load_local(path: Path, hf_split: str = "train", origin: str | None = None) -> LoadedData:
    """Read a local file or directory with the backend :func:`detect` names (not validated).

    ``origin`` (a hub repo's ``hf://`` name for its snapshot) names hub-layout data in errors.
    """
    name, location = detect(path, hf_split)
    return backend(name).read(location, split=hf_split,
                              origin=origin if name == "hub" else None)


def load_from_hub(repo_id: str, hf_split: str = "train", *, revision: str | None = None,
                  cache_dir: str | Path | None = None) -> LoadedData:
    """Load a hub dataset repo from the hub cache, else through ``datasets.load_dataset``.

    The hub cache is filled by ``snapshot_download`` when online; ``datasets`` has its own cache,
    which also works offline.

    With ``HF_HUB_OFFLINE=1`` nothing is downloaded: a repo that was loaded once is read from the
    local caches.
    """
    origin = f"hf://datasets/{repo_id}"
    require_extra("hf", f"{repo_id} (source='hf')", modules=("huggingface_hub",))
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
