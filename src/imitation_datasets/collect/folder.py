"""The dataset folder: one writer at a time, written whole or not at all, nothing lost on a crash.

A collection into ``<parent>/<name>`` uses three names beside the folder:

* ``.<name>.lock``: held by the one process writing the folder
  (:mod:`imitation_datasets.core.writer_lock`); a second writer gets :class:`FolderBusyError`
  naming the folder and the holder's pid.
* ``.<name>.new``: the next version of the dataset, written completely before it replaces the
  folder;
* ``.<name>.old``: the previous version during the swap.

The swap is ``rename(folder, old)``, ``rename(new, folder)``, then the staging folders of other runs
move from ``old`` back into the folder and ``old`` is deleted. Every state a crash can leave is
repaired by :meth:`DatasetFolder.recover` (run under the lock before anything else): without the
folder, ``old`` is renamed back (the previous dataset, whole); with both, the swap is finished; a
leftover ``new`` is deleted (it is rebuilt from the staged episodes, which are only deleted after
the swap). Readers therefore see the previous dataset, the new one, or (for an instant) no folder,
never a mix of two runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.writer_lock import hold_writer_lock
from imitation_datasets.data.dataset_card import CARD_FILE
from imitation_datasets.data.mapped import STEPS_DIR
from imitation_datasets.data.schema import EPISODES_FILE, METADATA_FILE, NPZ_FILE, STEPS_FILE

DATA_FILES = (STEPS_FILE, EPISODES_FILE, METADATA_FILE, NPZ_FILE, CARD_FILE, STEPS_DIR)
STAGING_PREFIX = ".staging-"
TEMP_PATTERN = re.compile(r"^\..+\.(\d+)\.tmp$")
"""Temporary files of atomic writes: ``.<name>.<pid>.tmp``."""


class OutFolderError(ImitationDatasetsError, ValueError):
    """The dataset folder cannot be written as asked (another dataset, foreign files, busy)."""


class FolderBusyError(OutFolderError):
    """Another process (or thread) is writing the dataset folder."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete ``.<name>.<pid>.tmp`` files in ``folder`` whose writer process no longer exists.

    A kill or a full disk leaves such files behind; on a full disk they would keep the disk full
    and make the rerun fail the same way.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for name in os.listdir(folder):
        match = TEMP_PATTERN.match(name)
        if match and not pid_alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
                removed.append(folder / name)
    return removed


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class DatasetFolder:
    """The folder a dataset is collected into, and the names beside it (module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        parent, name = self.path.parent, self.path.name
        self.lock_path = parent / f".{name}.lock"
        self.build_path = parent / f".{name}.new"
        self.old_path = parent / f".{name}.old"

    # ------------------------------------------------------------------ one writer
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder's lock for the duration of the ``with`` block.

        Raises:
            FolderBusyError: another process or thread holds it.
        """
        with hold_writer_lock(self.lock_path,
                              lambda holder: FolderBusyError(self._busy_message(holder))):
            yield

    def _busy_message(self, holder: str | None) -> str:
        who = f" ({holder})" if holder else ""
        return (f"{self.path}: another collection is writing this folder{who}; wait for it to "
                f"finish or choose another output folder (lock file {self.lock_path})")

    # ------------------------------------------------------------------ crash recovery
    def recover(self) -> None:
        """Repair what a crash left (call under :meth:`lock`); see the module docstring.

        Raises:
            OutFolderError: a name beside the folder that we would move or delete is a link or
                not a folder (never followed: it may point anywhere).
        """
        for side in (self.old_path, self.build_path):
            if side.is_symlink() or (side.exists() and not side.is_dir()):
                raise OutFolderError(f"{side}: is a link or not a folder, so il-datasets did not "
                                     f"make it; remove it before writing {self.path}")
        if self.old_path.exists():
            if not self.path.exists():
                os.replace(self.old_path, self.path)
            else:
                self._finish_swap(self._current_staging())
        if self.build_path.exists():
            shutil.rmtree(self.build_path)
        remove_stale_temp_files(self.path)
        for staging in self.staging_folders():
            remove_stale_temp_files(staging)

    def _current_staging(self) -> str | None:
        """Staging folder name of the complete dataset in the folder (deleted after the swap)."""
        try:
            meta = json.loads((self.path / METADATA_FILE).read_text(encoding="utf-8"))
            return f"{STAGING_PREFIX}{meta['collection']['fingerprint'][:16]}"
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def staging_folders(self) -> list[Path]:
        """The staging folders of every run kept in the folder, sorted by name."""
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.iterdir()
                      if p.name.startswith(STAGING_PREFIX) and p.is_dir() and not p.is_symlink())

    # ------------------------------------------------------------------ what is there
    def check_contents(self) -> None:
        """Refuse a path that is not a folder, or a folder holding files il-datasets did not write.

        Replacing the folder would delete them, so they are never touched.
        """
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise OutFolderError(f"{self.path}: exists and is not a folder")
        foreign = sorted(name for name in os.listdir(self.path)
                         if (name not in DATA_FILES and not name.startswith(STAGING_PREFIX)
                             and not TEMP_PATTERN.match(name))
                         or (self.path / name).is_symlink())  # we never write a link
        if foreign:
            shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise OutFolderError(
                f"{self.path}: holds files il-datasets did not write ({shown}); a dataset folder "
                f"is replaced whole, so move them away or choose another output folder"
            )

    # ------------------------------------------------------------------ written whole
    def replace(self, write: Callable[[Path], Any], drop_staging: str | None) -> None:
        """Write the new dataset with ``write(folder)`` beside the folder, then swap it in.

        Staging folders of other runs are kept; ``drop_staging`` (the name of this run's staging
        folder) is deleted with the previous version. If ``write`` fails, nothing changes.
        """
        shutil.rmtree(self.build_path, ignore_errors=True)
        self.build_path.mkdir(parents=True)
        try:
            write(self.build_path)
            _fsync_dir(self.build_path)
        except BaseException:
            shutil.rmtree(self.build_path, ignore_errors=True)
            raise
        if self.path.exists():
            os.rename(self.path, self.old_path)
        os.rename(self.build_path, self.path)
        _fsync_dir(self.path.parent)
        self._finish_swap(drop_staging)

    def _finish_swap(self, drop_staging: str | None) -> None:
        """Move the other runs' staging folders from the old version back; delete the rest."""
        if self.old_path.is_dir():
            for name in sorted(os.listdir(self.old_path)):
                if (name.startswith(STAGING_PREFIX) and name != drop_staging
                        and not (self.path / name).exists()):
                    os.rename(self.old_path / name, self.path / name)
        shutil.rmtree(self.old_path, ignore_errors=True)
