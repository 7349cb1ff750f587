"""The hub layout as a storage backend: folders (hub snapshots, ``push_to_hub`` folders) and files.

Reading: the ``.parquet``/``.jsonl`` data files of a split (named after it, as on the hub), in the
columns of :mod:`~imitation_datasets.data.hub_layout`, fitted to our ``metadata.json`` beside
them when there is one. Writing: a folder holding the Parquet shards
``data/<split>-0000i-of-0000N.parquet`` (one for a small dataset; about
:data:`~imitation_datasets.data.hub_layout.SHARD_BYTES` of rows each, streamed batch by batch, so
memory does not grow with the dataset), ``metadata.json`` and a ``README.md`` dataset card
(:mod:`~imitation_datasets.data.dataset_card`) whose ``configs`` make
``datasets.load_dataset(folder)`` read exactly the data files; or one ``.parquet``/``.jsonl``
file. Image observations carry HuggingFace's ``Image`` feature in the Parquet schema, so
``datasets`` decodes them as PIL images.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_paths import check_inside
from imitation_datasets.data.dataset_card import CARD_FILE, hub_card, hub_repo_card
from imitation_datasets.data.hub_layout import (
    SHARD_BYTES,
    read_hub_files,
    write_hub_parquet,
    write_hub_shards,
    write_jsonl,
)
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.metadata import METADATA_FILE, our_metadata, write_metadata

SPLIT_WORDS = ("train", "test", "validation", "valid", "val", "eval", "evaluation", "dev",
               "random", "medium")  # IL-Datasets hub repos: random-policy and medium-expert
#                                    splits beside train
SKIPPED_JSON = ("metadata.json", "dataset_info.json", "state.json", "dataset_dict.json")
DATA_SUFFIXES = (".parquet", ".jsonl", ".json")
SPLIT_METADATA_DIR = "metadata"
"""A hub folder of several splits keeps each split's metadata in ``metadata/<split>/``."""


def split_metadata(directory: Path, split: str) -> dict[str, Any] | None:
    """Our metadata of ``split`` in a hub folder.

    ``metadata/<split>/metadata.json`` when the folder has one per split (what
    :meth:`HubLayout.write_repo` writes), else the folder's ``metadata.json`` (one split).
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", split):
        raise ValueError(f"split {split!r}: letters, digits, '-' and '_' only")
    per_split = directory / SPLIT_METADATA_DIR / split
    if (per_split / METADATA_FILE).is_file():
        check_inside(per_split / METADATA_FILE, directory, source=str(directory),
                     error=DatasetFormatError)
        return our_metadata(per_split)
    return our_metadata(directory)


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
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        and p.name not in SKIPPED_JSON
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    for path in candidates:  # a symlink may not lead out (in a hub cache: into its blobs only)
        check_inside(path, directory, source=str(directory), error=DatasetFormatError)
    for suffix in DATA_SUFFIXES:
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


class HubLayout:
    """Storage backend ``"hub"``: hub-layout folders and files (see the module docstring)."""

    name = "hub"

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """A hub-layout folder (the ``split``'s files) or one data file, with our metadata."""
        path = Path(location)
        origin = origin or str(path)
        if path.is_dir():
            files = data_files(path, split)
            if not files:
                raise DatasetFormatError(f"{path}: no .parquet/.jsonl data files")
            metadata = split_metadata(path, split)
            name = origin if len(files) > 1 else f"{origin} ({files[0].relative_to(path)})"
            return LoadedData(read_hub_files(files, name, path, metadata), metadata, origin)
        metadata = our_metadata(path.parent)
        arrays = read_hub_files([path], str(path), path.parent, metadata)
        return LoadedData(arrays, metadata, origin)

    def write(self, data: LoadedData, location: str | Path, *, split: str = "train") -> Path:
        """Write ``data`` as a hub folder, or as one data file.

        ``location`` ending in ``.jsonl``/``.json`` or ``.parquet`` gets one data file (JSON lines
        is the original's upload format); anything else a hub folder (data, metadata, card).
        """
        path = Path(location)
        if path.suffix.lower() in (".jsonl", ".json"):
            return write_jsonl(data.arrays, path)
        if path.suffix.lower() == ".parquet":
            return write_hub_parquet(data.arrays, path)
        return self.write_folder(data, path, split=split)

    def write_folder(self, data: LoadedData, folder: str | Path, *, split: str = "train",
                     shard_bytes: int = SHARD_BYTES) -> Path:
        """Write the hub folder ``folder`` (whatever its name).

        ``data/<split>-0000i-of-0000N.parquet`` (shards of about ``shard_bytes`` uncompressed;
        ``-00000-of-00001`` for a dataset smaller than that), ``metadata.json`` (when there is
        metadata) and the ``README.md`` dataset card.
        """
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        write_hub_shards(data.arrays, path / "data", split, shard_bytes)
        if data.metadata is not None:
            write_metadata(path, data.metadata)
        atomic_write_text(path / CARD_FILE, hub_card(data.metadata, split))
        return path

    def write_repo(self, splits: Mapping[str, LoadedData], folder: str | Path, *,
                   notes: dict[str, str] | None = None) -> Path:
        """Write a hub folder holding several splits (a hub repo such as the original's).

        ``data/<split>-0000i-of-0000N.parquet`` and ``metadata/<split>/metadata.json`` for every
        split, and one ``README.md`` whose ``default`` config lists every split (``notes``: a
        line per split for the card). :meth:`read` takes each split's own metadata.
        """
        if not splits:
            raise ValueError("write_repo needs at least one split")
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        metadatas = {}
        for split, data in splits.items():
            if data.metadata is None:
                raise ValueError(f"split {split!r} has no metadata")
            split_metadata(path, split)  # checks the name
            write_hub_shards(data.arrays, path / "data", split)
            (path / SPLIT_METADATA_DIR / split).mkdir(parents=True, exist_ok=True)
            write_metadata(path / SPLIT_METADATA_DIR / split, data.metadata)
            metadatas[split] = data.metadata
        atomic_write_text(path / CARD_FILE, hub_repo_card(metadatas, notes))
        return path
