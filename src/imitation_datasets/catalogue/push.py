"""Upload a catalogue entry to the HuggingFace hub as one dataset repo, every split verified.

The repo has the original IL-Datasets hub layout (``NathanGavenski/<EnvId>``: one row per step,
splits ``train`` and ``random``), written by :meth:`~imitation_datasets.data.hub_folder.
HubLayout.write_repo`::

    README.md                              dataset card: one config listing every split
    data/<split>-00000-of-00001.parquet    one row per step (data/hub_layout.py)
    metadata/<split>/metadata.json         that split's provenance (seeds, expert, reference)

Each split is first obtained with :func:`~imitation_datasets.catalogue.get.get_dataset` (a local
folder, the hub cache, or regenerated) and its content fingerprint checked, so only the
catalogue's data are uploaded; the card names each split's fingerprint. What was pushed reads
back with ``BaselineDataset(repo, source="hf", hf_split=split)`` and verifies with
``get_dataset(key, split, repo=repo)``, offline, from the hub cache.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.catalogue.get import Got, entry, get_dataset, resolve
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.data.hub_folder import HubLayout
from imitation_datasets.data.sources import load_source

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")
"""A hub repo id: ``ORG/NAME``."""


class PushError(OneLineError, ValueError):
    """A push that cannot start: bad repo id, unknown split, no token (one line)."""


@dataclass(frozen=True)
class Staged:
    """A hub repo folder written for upload, and the verified splits it holds."""

    folder: Path
    splits: dict[str, Got]


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` when it is ``ORG/NAME``; else :class:`PushError`."""
    if not REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise PushError(f"--repo {repo_id!r}: expected ORG/NAME, e.g. my-org/CartPole-v1")
    return repo_id


def chosen_splits(key: str, splits: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """``(entry key, splits)``: every split of the entry by default, checked otherwise."""
    key, level = resolve(key)
    available = entry(key).splits()
    if level != "train" and not splits:  # cartpole-medium: its medium split alone
        splits = (level,)
    unknown = [s for s in splits if s not in available]
    if unknown:
        raise PushError(f"{key} has no split {', '.join(map(repr, unknown))}; it has "
                        f"{', '.join(available)}")
    return key, tuple(splits) or available


def stage(key: str, folder: str | Path, splits: Sequence[str] = (), *,
          cache: str | Path | None = None, workers: int = 1, progress: bool = False,
          hub_cache: str | Path | None = None) -> Staged:
    """Get every split of ``key`` (verified) and write the repo folder ``folder``.

    Args:
        key: a catalogue key (``cartpole``; ``cartpole-medium`` is its medium split).
        folder: where the repo folder is written.
        splits: splits to include (default: every split the entry has).
        cache: folder of the splits' dataset folders (default: the catalogue's cache).
        workers: worker processes when a split is regenerated.
        progress: show collection progress.
        hub_cache: the HuggingFace hub cache to look in first (default: the hub's own).
    """
    key, names = chosen_splits(key, splits)
    got = {name: get_dataset(key, name, None if cache is None else Path(cache) / f"{key}-{name}",
                             workers=workers, progress=progress, hub_cache=hub_cache)
           for name in names}
    loaded = {name: load_source(g.path) for name, g in got.items()}
    notes = {name: (f"Content fingerprint `{g.fingerprint}` "
                    f"({'the catalogue' if g.verified else 'NOT in the catalogue yet'}); "
                    f"`il-datasets get {key} --split {name}` regenerates and checks it.")
             for name, g in got.items()}
    return Staged(HubLayout().write_repo(loaded, folder, notes=notes), got)


def hub_token(token: str | None) -> str:
    """``token``, else the one ``huggingface_hub`` finds (``HF_TOKEN``, ``hf auth login``)."""
    from huggingface_hub import get_token

    found = token or get_token()
    if not found:
        raise PushError("no HuggingFace token: run `hf auth login` or set HF_TOKEN (or pass "
                        "--token); nothing was uploaded")
    return found


def push(key: str, repo_id: str, splits: Sequence[str] = (), *, token: str | None = None,
         private: bool | None = None, revision: str | None = None,
         commit_message: str | None = None, workers: int = 1, progress: bool = False,
         cache: str | Path | None = None, hub_cache: str | Path | None = None) -> Any:
    """Upload catalogue entry ``key`` (its verified splits and card) to hub repo ``repo_id``.

    The repo is created if needed (``private`` as given); the token and the repo id are checked
    before any dataset is obtained. Returns ``HfApi.upload_folder``'s ``CommitInfo``.

    Raises:
        MissingExtraError: ``huggingface_hub`` (the ``[hf]`` extra) is not installed.
        PushError: bad repo id, unknown split, or no token.
        FingerprintMismatch: a split is not the catalogue's data.
    """
    require_extra("hf", "il-datasets push", ("huggingface_hub",))
    from huggingface_hub import HfApi

    check_repo_id(repo_id)
    key, names = chosen_splits(key, splits)
    api = HfApi(token=hub_token(token))
    with tempfile.TemporaryDirectory(prefix="il-datasets-push-") as tmp:
        staged = stage(key, Path(tmp) / "repo", names, cache=cache, workers=workers,
                       progress=progress, hub_cache=hub_cache)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        return api.upload_folder(
            folder_path=str(staged.folder), repo_id=repo_id, repo_type="dataset",
            revision=revision,
            commit_message=commit_message or f"{key}: splits {', '.join(names)} "
                                             "(imitation_datasets catalogue, verified)")
