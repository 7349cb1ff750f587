"""Resolve what a user hands to ``BaselineDataset`` into arrays plus metadata.

A path, a file, a hub repo id or a Minari dataset id becomes
:class:`~imitation_datasets.data.arrays.DatasetArrays` and its metadata.

=========================================  ===================================================
input                                      read with
=========================================  ===================================================
our dataset directory (``metadata.json``   :func:`~imitation_datasets.data.parquet.read_parquet`
+ ``steps.parquet``)                       (zero-copy)
``*.npz`` (original layout or ours)        :func:`~imitation_datasets.data.npz.import_npz`
``*.parquet`` / ``*.jsonl`` in the hub     ``hub_layout.read_hub_files``
layout, or a folder of them (a hub         (``metadata.json`` beside them is used when it is
snapshot, our ``push_to_hub`` folder)      ours)
a ``datasets`` ``save_to_disk`` folder     ``hf_read.load_saved_dataset``
a hub repo id (``source="hf"``)            :func:`load_from_hub`: the hub cache
                                           (``huggingface_hub``), else ``datasets``
a Minari dataset id (``source="minari"``)  :func:`~imitation_datasets.data.minari_io.from_minari`
=========================================  ===================================================

Every reader here sits below this module; writers that accept any of these inputs
(``huggingface.py``, ``minari_export.py``) sit above it. :class:`LoadedData` lives in
``loaded.py`` and is re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_paths import check_inside
from imitation_datasets.core.safe_read import read_json, require_regular
from imitation_datasets.data.arrays import (
    DatasetArrays,
    check_episode_flags,
    check_finite,
    conform_to_spaces,
)
from imitation_datasets.data.hf_read import from_hf_dataset, load_saved_dataset
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.schema import FORMAT_NAME, METADATA_FILE, STEPS_FILE

SOURCES = {"local": "local", "hf": "hf", "huggingface": "hf", "minari": "minari"}
SPLIT_WORDS = ("train", "test", "validation", "valid", "val", "eval", "evaluation", "dev")
SKIPPED_JSON = ("metadata.json", "dataset_info.json", "state.json", "dataset_dict.json")


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
    """Load any supported dataset (see the module docstring) into memory.

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
            default: see :func:`validate_loaded`).

    Raises:
        FileNotFoundError: a local path that does not exist.
        DatasetFormatError: a file that is corrupt, not in a supported layout, or whose data
            fails :func:`validate_loaded`.
    """
    return validate_loaded(_load_source(path, source, hf_split, revision, cache_dir),
                           allow_nonfinite=allow_nonfinite)


def validate_loaded(loaded: LoadedData, *, allow_nonfinite: bool = False) -> LoadedData:
    """Refuse loaded data that is not what its files say (every source goes through this).

    Checks: ``terminated``/``truncated`` are 0/1 and set only on an episode's last step; no NaN
    or infinity in observations, final observations, actions or rewards unless
    ``allow_nonfinite``; and, when there is metadata of ours, that its spaces fit the arrays
    (shape and dtype; Discrete actions whole and in range, returned as int64) and its counts
    and returns are those of the data. Vectorised; a few temporary bytes per episode, none per
    step beyond small fixed-size chunks.

    Raises:
        DatasetFormatError: one line naming the origin and the problem.
    """
    arrays, origin = loaded.arrays, loaded.origin
    check_episode_flags(arrays, origin)
    if not allow_nonfinite:
        check_finite(arrays, origin)
    if loaded.metadata is None or loaded.metadata.get("format") != FORMAT_NAME:
        return loaded
    from imitation_datasets.data.metadata import check_against_data
    from imitation_datasets.data.parquet import metadata_spaces

    check_against_data(loaded.metadata, arrays, origin)
    arrays = conform_to_spaces(arrays, *metadata_spaces(loaded.metadata), origin)
    return loaded if arrays is loaded.arrays else LoadedData(arrays, loaded.metadata, origin)


def _load_source(path: str | Path, source: str, hf_split: str, revision: str | None,
                 cache_dir: str | Path | None) -> LoadedData:
    kind = normalize_source(source)
    local = Path(path).expanduser()
    if local.exists():
        return load_local(local, hf_split)
    if kind == "hf":
        return load_from_hub(str(path), hf_split, revision=revision, cache_dir=cache_dir)
    if kind == "minari":
        from imitation_datasets.data.minari_io import from_minari

        arrays, metadata = from_minari(str(path))
        return LoadedData(arrays, metadata, f"minari://{path}")
    hint = " (for a HuggingFace hub repo id pass source='hf')" if _looks_like_repo(str(path)) \
        else ""
    raise FileNotFoundError(f"No dataset at: {path}{hint}")


def _looks_like_repo(name: str) -> bool:
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


def our_metadata(directory: Path) -> dict[str, Any] | None:
    """``directory/metadata.json`` when it is ours (checked); ``None`` when absent or foreign."""
    path = directory / METADATA_FILE
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        return None
    from imitation_datasets.data.metadata import read_metadata

    return read_metadata(directory)


def _single_split(path: Path, hf_split: str) -> None:
    if hf_split != "train":
        raise ValueError(
            f"hf_split={hf_split!r}: {path} holds a single split ('train'); use split= and "
            "n_episodes= to cut it by episodes"
        )


def load_local(path: Path, hf_split: str = "train", origin: str | None = None) -> LoadedData:
    """Load a local file or directory (see the module docstring)."""
    origin = origin or str(path)
    if path.is_dir():
        return _load_directory(path, hf_split, origin)
    require_regular(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        _single_split(path, hf_split)
        return _load_npz(path)
    if path.name == STEPS_FILE and (path.parent / METADATA_FILE).is_file():
        _single_split(path, hf_split)
        return _load_ours(path.parent)
    if suffix in (".parquet", ".jsonl", ".json"):
        metadata = our_metadata(path.parent)
        return LoadedData(_read_hub([path], str(path), path.parent, metadata), metadata, origin)
    raise DatasetFormatError(
        f"{path}: unsupported file type {suffix!r}; expected a dataset directory, .npz, "
        ".parquet or .jsonl"
    )


def _read_hub(files: list[Path], origin: str, directory: Path,
              metadata: dict[str, Any] | None) -> DatasetArrays:
    """Hub-layout files read as stored, then fitted to our metadata's spaces exactly.

    (Values the metadata's dtype cannot represent, such as float data under ``uint8``, are
    refused rather than cast; see :func:`~imitation_datasets.data.arrays.conform_to_spaces`.)
    """
    from imitation_datasets.data.hub_layout import read_hub_files
    from imitation_datasets.data.parquet import metadata_spaces

    arrays = read_hub_files(files, origin, directory, None)
    if metadata is None:
        return arrays
    arrays = conform_to_spaces(arrays, *metadata_spaces(metadata), origin, cast=True)
    episodes = metadata["episodes"]
    records = {key: np.asarray(episodes[name], dtype=np.int64)
               for key, name in (("seeds", "seed"), ("attempts", "attempts"))
               if len(episodes.get(name, ())) == arrays.n_episodes}
    return replace(arrays, **records)


def _load_ours(directory: Path) -> LoadedData:
    from imitation_datasets.data.parquet import read_parquet

    arrays, metadata = read_parquet(directory)
    return LoadedData(arrays, metadata, str(directory))


def _load_npz(path: Path) -> LoadedData:
    from imitation_datasets.data.npz import import_npz

    arrays = import_npz(path)
    metadata = None
    try:
        candidate = our_metadata(path.parent)
    except DatasetFormatError:
        candidate = None
    # Our collate writes teacher.npz beside metadata.json; use it only if it describes this file.
    if candidate is not None:
        try:
            metadata = validate_loaded(LoadedData(arrays, candidate, str(path)),
                                       allow_nonfinite=True).metadata
        except DatasetFormatError:
            metadata = None
    return LoadedData(arrays, metadata, str(path))


def _split_of(relative: Path) -> str | None:
    """The split a data file belongs to, from its folder or file name (hub conventions)."""
    parts = [*relative.parts[:-1], relative.name.split(".")[0]]
    for part in parts:
        for token in re.split(r"[-_. ]+", part.lower()):
            if token in SPLIT_WORDS:
                return token
    return None


def data_files(directory: Path, hf_split: str) -> list[Path]:
    """The hub-layout data files of ``directory`` that belong to ``hf_split``.

    Files named after a split (``data/train-00000-of-00001.parquet``, ``test.jsonl``) belong to
    it; when no file is named after a split, every file is ``"train"`` (the hub's rule). Parquet
    files are preferred over JSON lines when both exist.
    """
    candidates = [
        p for p in sorted(directory.rglob("*"))
        if p.is_file() and p.suffix.lower() in (".parquet", ".jsonl", ".json")
        and p.name not in SKIPPED_JSON
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    for path in candidates:  # a symlink may not lead out (in a hub cache: into its blobs only)
        check_inside(path, directory, source=str(directory), error=DatasetFormatError)
    for suffix in (".parquet", ".jsonl", ".json"):
        files = [p for p in candidates if p.suffix.lower() == suffix]
        if not files:
            continue
        splits = {p: _split_of(p.relative_to(directory)) for p in files}
        named = {s for s in splits.values() if s is not None}
        if not named:
            if hf_split != "train":
                raise ValueError(
                    f"hf_split={hf_split!r}: {directory} has no files named after a split, so "
                    "everything is 'train'"
                )
            return files
        chosen = [p for p, s in splits.items() if s == hf_split]
        if not chosen:
            raise ValueError(
                f"hf_split={hf_split!r} not found in {directory}; it has {sorted(named)}"
            )
        return chosen
    return []


def _load_directory(directory: Path, hf_split: str, origin: str) -> LoadedData:
    if (directory / STEPS_FILE).exists():
        # Ours; without metadata.json it is incomplete and read_parquet says so (a steps file
        # that is not a regular file is refused there, not mistaken for another layout).
        _single_split(directory, hf_split)
        return _load_ours(directory)
    if (directory / "dataset_info.json").is_file() or (directory / "dataset_dict.json").is_file():
        return load_saved_dataset(directory, hf_split)
    files = data_files(directory, hf_split)
    if files:
        metadata = our_metadata(directory)
        name = origin if len(files) > 1 else f"{origin} ({files[0].relative_to(directory)})"
        return LoadedData(_read_hub(files, name, directory, metadata), metadata, origin)
    npz = sorted(directory.glob("*.npz"))
    if len(npz) == 1:
        _single_split(directory, hf_split)
        return _load_npz(npz[0])
    if (directory / METADATA_FILE).is_file():
        # Our metadata without steps.parquet: let read_parquet name what is missing.
        return _load_ours(directory)
    raise DatasetFormatError(
        f"{directory}: no dataset found (expected metadata.json + steps.parquet, a teacher.npz, "
        "or .parquet/.jsonl files in the IL-Datasets hub layout)"
    )


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
