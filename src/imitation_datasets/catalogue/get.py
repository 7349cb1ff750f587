"""Get a canonical dataset, verified: from a local folder, the hub cache, or by regenerating it.

``get_dataset(key, split)`` looks, in order, at

1. ``out`` (default ``<cache>/<key>-<split>``, ``<cache>`` = ``$IL_DATASETS_CACHE`` or
   ``~/.cache/imitation_datasets/catalogue``): a dataset already there is read and checked;
2. the HuggingFace hub cache (``huggingface_hub.snapshot_download(..., local_files_only=True)``:
   never the network) for ``il-datasets/<EnvId>``'s split: read, checked, written to ``out``;
3. otherwise it regenerates the dataset with the Controller (curated expert, random actions,
   or for ``medium`` the ``<key>-medium`` expert; 1000 episodes, dataset seed 0) into ``out``.

Either way the content fingerprint is compared with the committed one and the result says so;
a mismatch raises :class:`FingerprintMismatch` naming both values and the versions the
committed one was measured with (the data stay where they are, for inspection).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.catalogue.entries import (
    CATALOGUE,
    LEVEL_SPLITS,
    MEASURED_WITH,
    Entry,
    Split,
)
from imitation_datasets.collect.controller import Controller
from imitation_datasets.collect.folder import DatasetFolder
from imitation_datasets.collect.options import CollectOptions
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.names import unknown
from imitation_datasets.core.versions import library_versions
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.parquet import write_parquet
from imitation_datasets.data.sources import load_local, load_source, validate_loaded
from imitation_datasets.experts.curated import level_key
from imitation_datasets.experts.registry import Experts

CACHE_ENV = "IL_DATASETS_CACHE"
"""Environment variable naming the catalogue's local folder."""


class FingerprintMismatch(OneLineError, ValueError):
    """A dataset's content is not the catalogue's."""


@dataclass(frozen=True)
class Got:
    """What :func:`get_dataset` did."""

    path: Path
    source: str
    """``"local folder"``, ``"hub cache"`` or ``"regenerated"``."""
    fingerprint: str
    verified: bool
    """``True``: equal to the committed fingerprint; ``False``: none is committed yet."""

    def describe(self) -> str:
        """One line for the user."""
        check = "matches the catalogue's fingerprint" if self.verified \
            else "no fingerprint committed for it yet: NOT verified"
        return (f"{self.path} ({self.source}): content fingerprint {self.fingerprint[:16]}... "
                f"{check}")


def entry(key: str) -> Entry:
    """The catalogue entry of ``key`` (an expert key)."""
    if key not in CATALOGUE:
        names = [*CATALOGUE, *(level_key(k, s) for k, e in CATALOGUE.items()
                               for s in e.splits() if s in LEVEL_SPLITS)]
        raise unknown("catalogue dataset", key, names)
    return CATALOGUE[key]


def resolve(key: str, split: str = "train") -> tuple[str, str]:
    """``(entry key, split)`` of a catalogue name.

    ``cartpole-medium`` is ``cartpole``'s ``medium`` split (given with the default split
    ``train`` or with ``medium`` itself).
    """
    for level in LEVEL_SPLITS:
        base = key.removesuffix(f"-{level}")
        if base != key and base in CATALOGUE and key not in CATALOGUE:
            if split not in ("train", level):
                raise ValueError(f"{key} is the {level} split of {base}; not {split!r}")
            return base, level
    return key, split


def split_expert(key: str, split: str) -> Any:
    """The policy that plays ``key``'s ``split``: its curated expert, or its level's expert."""
    return Experts.get_expert(level_key(key, split) if split in LEVEL_SPLITS else key)


def cache_folder() -> Path:
    """``$IL_DATASETS_CACHE`` or ``~/.cache/imitation_datasets/catalogue``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "imitation_datasets"
                / "catalogue")


def check(loaded: LoadedData, key: str, split: str, where: str) -> tuple[str, bool]:
    """``(fingerprint, verified)`` of ``loaded``; raises on a mismatch with the catalogue."""
    expected = entry(key).split(split).fingerprint
    found = content_fingerprint(loaded.arrays)
    if expected is not None and found != expected:
        versions = library_versions(MEASURED_WITH, missing="not installed")
        measured = ", ".join(f"{k} {v}" for k, v in MEASURED_WITH.items())
        here = ", ".join(f"{k} {versions.get(k)}" for k in MEASURED_WITH)
        raise FingerprintMismatch(
            f"{where}: content fingerprint {found} is not the catalogue's {expected} for "
            f"{key} ({split}); the catalogue was measured with {measured}, this machine has "
            f"{here}")
    return found, expected is not None


def regenerate(key: str, split: str, out: Path, workers: int = 1,
               progress: bool = False) -> Path:
    """Collect the canonical dataset ``key``/``split`` into ``out`` with the Controller."""
    spec = entry(key).split(split)
    options = CollectOptions(episodes=spec.episodes, seed=spec.seed, workers=workers,
                             random=split == "random", path=str(out.parent),
                             progress=progress)
    controller = Controller.from_options(options, expert=split_expert(key, split),
                                         command=f"il-datasets get {key} --split {split}")
    return controller.start({"game": out.name, "mode": "all"})


def _from_hub_cache(repo: str, split: str, hub_cache: str | Path | None) -> LoadedData | None:
    try:
        from huggingface_hub import snapshot_download

        folder = snapshot_download(repo, repo_type="dataset", local_files_only=True,
                                   cache_dir=None if hub_cache is None else str(hub_cache))
    except Exception:  # noqa: BLE001 - not installed, or not in the cache: regenerate instead
        return None
    try:
        loaded = load_local(Path(folder), split, f"hf://datasets/{repo}")
    except ValueError:  # the cached repo has no such split
        return None
    return validate_loaded(loaded)


def _write(out: Path, loaded: LoadedData) -> None:
    folder = DatasetFolder(out)
    with folder.lock():
        folder.recover()
        folder.check_contents()
        assert loaded.metadata is not None
        metadata = loaded.metadata
        folder.replace(lambda build: write_parquet(build, loaded.arrays, metadata), None)


def get_dataset(key: str, split: str = "train", out: str | Path | None = None, *,
                workers: int = 1, progress: bool = False,
                hub_cache: str | Path | None = None, repo: str | None = None) -> Got:
    """The canonical dataset ``key``/``split`` in ``out``, verified (module docstring).

    ``hub_cache`` is the HuggingFace hub cache folder (default: the hub's own); ``repo`` the
    hub repo looked for there (default: the entry's ``il-datasets/<EnvId>``; a repo made by
    ``il-datasets push``, say).

    Raises:
        UnknownNameError: ``key`` is not in the catalogue.
        FingerprintMismatch: what was found or made is not the catalogue's data.
    """
    key, split = resolve(key, split)
    spec: Split = entry(key).split(split)
    del spec  # checks the split name before any work
    path = Path(out) if out is not None else cache_folder() / f"{key}-{split}"
    if (path / "metadata.json").exists():
        found, verified = check(load_source(path), key, split, str(path))
        return Got(path, "local folder", found, verified)
    cached = _from_hub_cache(repo or entry(key).hub_repo, split, hub_cache)
    if cached is not None and cached.metadata is not None:
        found, verified = check(cached, key, split, cached.origin)
        _write(path, cached)
        return Got(path, "hub cache", found, verified)
    regenerate(key, split, path, workers, progress)
    found, verified = check(load_source(path), key, split, str(path))
    return Got(path, "regenerated", found, verified)
