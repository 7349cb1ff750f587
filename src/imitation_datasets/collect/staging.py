"""Where episodes wait between play and collate: one folder per run fingerprint.

A run's fingerprint hashes everything that decides the recorded data (environment, expert and its
weights, dataset seed, threshold, retry bound, enjoy function). A rerun with the same arguments
finds its own folder and resumes; a run with other arguments gets another folder, so collate can
never pick up stale episodes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EPISODE_PATTERN = re.compile(r"^episode_(\d{7})\.ep$")
MARKER_PATTERN = re.compile(r"^(\d+)\.done\.json$")


def fingerprint(fields: dict[str, Any]) -> str:
    """Stable hex digest of a JSON-serialisable description of a run."""
    blob = json.dumps(fields, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Staging:
    """The staging folder of one run, inside the dataset directory.

    Args:
        dataset_dir: the dataset's directory.
        run_fingerprint: value of :func:`fingerprint` for the run.
    """

    def __init__(self, dataset_dir: str | Path, run_fingerprint: str) -> None:
        self.dataset_dir = Path(dataset_dir)
        self.fingerprint = run_fingerprint
        self.path = self.dataset_dir / f".staging-{run_fingerprint[:16]}"

    def create(self, description: dict[str, Any]) -> None:
        """Create the folder and record what run it belongs to."""
        self.path.mkdir(parents=True, exist_ok=True)
        run_file = self.path / "run.json"
        if not run_file.exists():
            atomic_write_text(run_file, json.dumps(description, indent=2, sort_keys=True,
                                                   default=str))

    def episode_path(self, index: int) -> Path:
        """File of the accepted episode ``index`` (built-in enjoy functions)."""
        return self.path / f"episode_{index:07d}.ep"

    def marker_path(self, index: int) -> Path:
        """Completion marker of episode ``index`` (user enjoy functions)."""
        return self.path / f"{index}.done.json"

    def staged_episodes(self, limit: int) -> set[int]:
        """Indices ``< limit`` with a complete staged episode file."""
        return self._indices(EPISODE_PATTERN, limit)

    def marked_episodes(self, limit: int) -> set[int]:
        """Indices ``< limit`` whose user enjoy call completed (marker present)."""
        return self._indices(MARKER_PATTERN, limit)

    def _indices(self, pattern: re.Pattern[str], limit: int) -> set[int]:
        if not self.path.is_dir():
            return set()
        matches = (pattern.match(name) for name in os.listdir(self.path))
        return {int(m.group(1)) for m in matches if m and int(m.group(1)) < limit}

    def user_files(self, indices: Iterable[int]) -> list[str]:
        """Files a user enjoy function wrote into the dataset folder for ``indices``.

        User functions write ``<path><index>...``; only names whose leading digits are one of
        this run's indices are returned, sorted by index.
        """
        wanted = {str(i) for i in indices}
        files = []
        for name in sorted(os.listdir(self.dataset_dir)):
            if name.startswith(".") or not (self.dataset_dir / name).is_file():
                continue
            stem = re.match(r"^(\d+)", name)
            if stem and stem.group(1) in wanted:
                files.append(name)
        return sorted(files, key=lambda n: (int(re.match(r"^(\d+)", n).group(1)), n))

    def log_error(self, index: int, attempt: int, seed: int, text: str) -> None:
        """Append a failed attempt's traceback to ``errors.log``."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.path / "errors.log", "a", encoding="utf-8") as handle:
            handle.write(f"[{stamp}] episode {index} attempt {attempt} seed {seed}\n{text}\n")
