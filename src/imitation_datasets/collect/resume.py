"""Resuming: whether the dataset folder already holds this run's dataset, and other runs' stagings.

A folder holds "this dataset" when its metadata carries this run's fingerprint, the same number
of episodes and (with the built-in collate) every file, and no staging of the run is left. That
needs a policy whose identity is known: the same arguments with a policy of unknown identity may
name another policy. Staged episodes of other runs are never deleted; the user is told about them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from imitation_datasets.collect.folder import DatasetFolder, OutFolderError
from imitation_datasets.collect.functions import DatasetCollate
from imitation_datasets.collect.staging import Staging
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.metadata import read_metadata
from imitation_datasets.data.schema import METADATA_FILE, NPZ_FILE

logger = logging.getLogger(__name__)

UNKNOWN_IDENTITY = (
    "holds a dataset made with the same arguments, but the policy has no identity, so it may "
    "have been another policy (give it one: CallablePolicy(..., identity='name-v1') or a "
    "fingerprint() method)"
)


def holds_dataset(folder: DatasetFolder, staging: Staging, episodes: int, collate: Any,
                  whole: bool, overwrite: bool) -> bool:
    """Whether ``folder`` holds this very dataset already (``episodes`` written by ``collate``).

    With the built-in collate (``whole``), a folder holding files il-datasets did not write, or
    another dataset, is refused unless ``overwrite``; a user collate decides itself.

    Raises:
        OutFolderError: the folder holds something else and may not be replaced.
    """
    if whole:
        folder.check_contents()
    if not (folder.path / METADATA_FILE).is_file():
        return False

    def refuse(reason: str) -> bool:
        if overwrite or not whole:
            return False
        raise OutFolderError(
            f"{folder.path}: {reason}; pass --overwrite (Controller(..., overwrite=True)) to "
            f"replace it, or choose another output folder"
        )

    try:
        metadata = read_metadata(folder.path)
    except DatasetFormatError as exc:
        return refuse(f"holds a dataset that cannot be read ({exc})")
    collection = metadata.get("collection")
    collection = collection if isinstance(collection, dict) else {}
    if collection.get("fingerprint") != staging.fingerprint:
        return refuse(f"already holds another dataset ({_summary(metadata)})")
    if not staging.resumable:
        return refuse(UNKNOWN_IDENTITY)
    npz_missing = (isinstance(collate, DatasetCollate) and collate.npz
                   and not (folder.path / NPZ_FILE).is_file())
    return (collection.get("episodes") == episodes and not npz_missing
            and not staging.path.exists())


def report_kept_stagings(folder: DatasetFolder, staging: Staging) -> None:
    """Tell the user about staged episodes of other runs (they are never deleted)."""
    for other in folder.staging_folders():
        if other != staging.path:
            logger.warning(_kept_message(other))


def _kept_message(staging: Path) -> str:
    try:
        run = json.loads((staging / "run.json").read_text(encoding="utf-8"))
        what = (f"expert {run['expert'].get('id') or run['expert'].get('kind')}, "
                f"seed {run['dataset_seed']}")
        resumable = bool(run.get("resumable", True))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        what, resumable = "run.json unreadable", True
    if resumable:
        return (f"note: keeping {staging}: episodes staged by another run ({what}); rerun that "
                f"run's command to resume it, or delete that folder to discard them")
    return (f"note: keeping {staging}: episodes staged by an earlier run ({what}) whose policy "
            f"had no identity, so no run resumes them; delete that folder to discard them")


def _summary(metadata: dict[str, Any]) -> str:
    expert = metadata.get("expert")
    expert = expert if isinstance(expert, dict) else {}
    collection = metadata.get("collection")
    collection = collection if isinstance(collection, dict) else {}
    return (f"expert {expert.get('id') or expert.get('kind')}, seed "
            f"{collection.get('dataset_seed')}, {collection.get('episodes')} episodes")
