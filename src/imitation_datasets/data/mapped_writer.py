"""Write a mapped dataset folder episode by episode, never holding the dataset in memory.

:class:`MappedWriter` appends each episode's steps to the column files of
:mod:`~imitation_datasets.data.mapped` as it arrives and keeps only per-episode records
(length, seed, attempts, final observation); :meth:`MappedWriter.finish` maps the finished
columns, builds the metadata from them and writes ``episodes.parquet`` and ``metadata.json``
last. Memory is ``O(episodes + one episode)`` whatever the number of steps.

The folder has the same content as ``write_parquet(directory, arrays, metadata, mapped=True)``
on the concatenated episodes, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.episode import Episode
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.images import FrameWriter, map_frames
from imitation_datasets.data.mapped import (
    FRAMES_FILE,
    STATE_FILES,
    STEPS_DIR,
    ColumnWriter,
    column_paths,
    is_frames,
    map_column,
    write_column,
)
from imitation_datasets.data.parquet import finish_folder
from imitation_datasets.data.schema import METADATA_FILE

Metadata = dict[str, Any] | Callable[[DatasetArrays], dict[str, Any]]


class MappedWriter:
    """Writes a mapped dataset of ``steps`` steps into ``directory``, one episode at a time.

    The column shapes and dtypes are those of the first episode (observations and actions as
    recorded, rewards float64, flags bool). Use as a context manager, or call :meth:`abort` on
    failure: unfinished column files are removed, and ``metadata.json`` is written only by
    :meth:`finish`, so an interrupted folder is never taken for a dataset.

    Raises:
        ValueError: an episode whose shapes differ from the first one's, or a step count other
            than ``steps``.
    """

    def __init__(self, directory: str | Path, steps: int) -> None:
        self.directory = Path(directory)
        self.steps = int(steps)
        self.columns: dict[str, ColumnWriter] = {}
        self.lengths: list[int] = []
        self.seeds: list[int] = []
        self.attempts: list[int] = []
        self.final_obs: list[np.ndarray] = []
        self.frames: FrameWriter | None = None
        self.frame_shape: tuple[int, ...] = ()
        self.states: ColumnWriter | None = None
        self.final_states: list[np.ndarray] = []
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / METADATA_FILE).unlink(missing_ok=True)

    def __enter__(self) -> MappedWriter:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if kind is not None:
            self.abort()

    def add(self, episode: Episode) -> None:
        """Append one episode's steps."""
        length = episode.length
        flags = {}
        for name, value in (("terminated", episode.terminated), ("truncated", episode.truncated)):
            flags[name] = np.zeros(length, dtype=bool)
            flags[name][-1] = bool(value)
        values = {"obs": np.asarray(episode.obs), "actions": np.asarray(episode.actions),
                  "rewards": np.asarray(episode.rewards, dtype=np.float64), **flags}
        if not self.columns:
            (self.directory / STEPS_DIR).mkdir(exist_ok=True)
            for field, path in column_paths(self.directory).items():
                if field == "obs" and is_frames(values["obs"]):
                    self.frames = FrameWriter(path.with_name(FRAMES_FILE))
                    self.frame_shape = values["obs"].shape[1:]
                    continue
                self.columns[field] = ColumnWriter(path, self.steps, values[field].shape[1:],
                                                   values[field].dtype)
            if episode.states is not None:
                states = np.asarray(episode.states)
                self.states = ColumnWriter(self.directory / STEPS_DIR / STATE_FILES[0],
                                           self.steps, states.shape[1:], states.dtype)
        if (episode.states is None) != (self.states is None):
            raise ValueError(f"episode {episode.index}: states kept in some episodes only")
        if self.frames is not None:
            if values["obs"].shape[1:] != self.frame_shape:
                raise ValueError(f"frames shaped {values['obs'].shape[1:]}, the first "
                                 f"episode's were {self.frame_shape}")
            self.frames.write(values["obs"])
        for field, writer in self.columns.items():
            writer.write(values[field])
        if self.states is not None and episode.states is not None:
            self.states.write(episode.states)
            self.final_states.append(np.asarray(episode.final_state, dtype=self.states.dtype))
        self.lengths.append(length)
        self.seeds.append(-1 if episode.seed is None else int(episode.seed))
        self.attempts.append(episode.attempt + 1)
        self.final_obs.append(np.asarray(episode.final_obs, dtype=values["obs"].dtype))

    def finish(self, metadata: Metadata) -> DatasetArrays:
        """Close the columns, then write ``episodes.parquet`` and ``metadata.json`` (last).

        ``metadata`` is the metadata, or a function building it from the (mapped) arrays.
        Returns the dataset's arrays, memory-mapped.
        """
        if not self.columns:
            raise ValueError("a dataset needs at least one episode")
        for writer in self.columns.values():
            writer.close()
        if self.states is not None:
            self.states.close()
            write_column(self.directory / STEPS_DIR / STATE_FILES[1], np.stack(self.final_states))
        rows = self.steps
        paths = column_paths(self.directory)
        columns: dict[str, Any] = {field: map_column(paths[field], rows)
                                   for field in paths if field in self.columns}
        if self.frames is not None:
            if self.frames.rows != rows:
                self.abort()
                raise ValueError(f"{self.frames.rows} frames written, {rows} announced")
            self.frames.close()
            columns["obs"] = map_frames(paths["obs"].with_name(FRAMES_FILE), rows)
        arrays = DatasetArrays(
            **columns,
            lengths=np.array(self.lengths, dtype=np.int64),
            final_obs=np.stack(self.final_obs),
            seeds=np.array(self.seeds, dtype=np.int64),
            attempts=np.array(self.attempts, dtype=np.int64))
        finish_folder(self.directory, arrays,
                      metadata(arrays) if callable(metadata) else metadata)
        return arrays

    def abort(self) -> None:
        """Remove the unfinished column files."""
        for writer in self.columns.values():
            writer.abort()
        if self.states is not None:
            self.states.abort()
        if self.frames is not None:
            self.frames.abort()
