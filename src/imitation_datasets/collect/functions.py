"""Default ``enjoy`` and ``collate`` functions (the names of the original IL-Datasets).

``baseline_enjoy`` records one episode with the expert; ``random_enjoy`` with uniformly random
actions; ``baseline_collate`` merges staged episodes into a dataset directory (Parquet +
``metadata.json``) and a ``teacher.npz``. The Controller recognises these objects and runs them
through its fast path (several environments per worker, batched inference); they can also be
called directly with the original signatures.

The original IL-Datasets 1.0.0 contracts (what a 1.0.0 script sees):

* ``enjoy(expert, path, context)`` writes ``<path><index>.npz`` with ``states, actions`` and
  returns ``(accepted, episode_return)``; ``baseline_enjoy``/``random_enjoy`` write ``obs,
  actions, rewards, episode_returns`` and return a bool (:data:`EPISODE_KEYS`).
* ``collate`` writes ``teacher.npz`` with ``states, actions, episode_starts``;
  ``baseline_collate`` with ``obs, actions, rewards, episode_returns, episode_starts``
  (:data:`TEACHER_KEYS`, in that order, nothing else: the rest lives in the Parquet folder).
* A user ``enjoy`` may return a bool or 1.0.0's ``(accepted, return)``
  (:func:`enjoy_outcome`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.episode import Episode
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.core.safe_read import open_regular
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.mapped_writer import MappedWriter
from imitation_datasets.data.metadata import build_metadata
from imitation_datasets.data.parquet import write_parquet
from imitation_datasets.data.schema import NPZ_FILE, infer_spaces

EPISODE_SUFFIX = ".ep"
"""Our staged episode files (:class:`~imitation_datasets.core.episode.Episode`)."""

EPISODE_KEYS = {"states": ("states", "actions"),
                "baseline": ("obs", "actions", "rewards", "episode_returns")}
"""Keys of the per-episode ``<index>.npz`` of 1.0.0's ``enjoy`` and ``baseline_enjoy``."""
TEACHER_KEYS = {"states": ("states", "actions", "episode_starts"),
                "baseline": ("obs", "actions", "rewards", "episode_returns", "episode_starts")}
"""Keys, in order, of the ``teacher.npz`` of 1.0.0's ``collate`` and ``baseline_collate``."""


def enjoy_outcome(result: Any) -> tuple[bool, float | None]:
    """``(accepted, episode_return)`` of what an ``enjoy`` function returned.

    IL-Datasets 1.0.0's ``enjoy`` returns ``(accepted, return)``, its ``baseline_enjoy`` and the
    paper's functions a bool: both are understood (a tuple is never taken as "true" for being
    non-empty). The return is ``None`` when the function gave none.
    """
    if isinstance(result, tuple) and len(result) == 2:
        accepted, episode_return = result
        return bool(accepted), None if episode_return is None else float(episode_return)
    return bool(result), None


def episode_columns(episode: Episode, layout: str) -> dict[str, np.ndarray]:
    """One episode as 1.0.0's per-episode file of ``layout`` (see :data:`EPISODE_KEYS`).

    ``states``/``obs`` are the observations the actions were taken in (1.0.0's ``enjoy`` stored
    the observation after each action instead: the pairs were shifted by one step).
    """
    if layout == "states":
        return {"states": episode.obs, "actions": episode.actions}
    return {"obs": episode.obs, "actions": episode.actions,
            "rewards": episode.rewards.astype(np.float64),
            "episode_returns": np.array([episode.episode_return], dtype=np.float64)}


def teacher_columns(arrays: DatasetArrays, layout: str) -> dict[str, np.ndarray]:
    """The ``teacher.npz`` of 1.0.0's ``collate``/``baseline_collate`` (:data:`TEACHER_KEYS`).

    ``episode_starts``, ``rewards`` and ``episode_returns`` are float64 as in 1.0.0;
    observations and actions keep their recorded dtype and shape (1.0.0 flattened every
    action array to one dimension, which broke multi-dimensional actions).
    """
    columns = {"states" if layout == "states" else "obs": arrays.obs, "actions": arrays.actions,
               "rewards": arrays.rewards.astype(np.float64), "episode_returns": arrays.returns,
               "episode_starts": arrays.episode_starts.astype(np.float64)}
    return {key: columns[key] for key in TEACHER_KEYS[layout]}


def write_npz(path: str | Path, columns: dict[str, Any]) -> Path:
    """``np.savez`` of ``columns`` (in order) to ``path``, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **columns)
    return path


def read_episode_file(path: str | Path) -> dict[str, np.ndarray]:
    """A per-episode ``.npz`` (1.0.0's layouts), never unpickled; only a regular file is read.

    Raises:
        DatasetFormatError: not a readable npz of numeric arrays.
    """
    try:
        with open_regular(path) as handle, np.load(handle, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except DatasetFormatError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetFormatError(f"{path}: not a readable episode file ({exc})") from None


def policy_env(policy: Any) -> tuple[str, dict[str, Any]]:
    """The Gymnasium id (``env_id``, else ``name``) and ``gym.make`` kwargs a policy plays."""
    return (getattr(policy, "env_id", None) or policy.name,
            dict(getattr(policy, "env_kwargs", None) or {}))


class RecordingEnjoy:
    """An ``enjoy`` function that records whole episodes with their seeds.

    Through the Controller it keeps observations, actions, rewards, ``terminated`` and
    ``truncated``, the final observation, the return, and the reset seed. Called directly (the
    1.0.0 signature) it writes 1.0.0's per-episode file ``<path><index>.npz``.

    Args:
        name: the function's name (``enjoy``, ``baseline_enjoy``, ``random_enjoy``).
        random_actions: play uniformly random actions (seeded by the episode seed).
        layout: the per-episode file's keys (:data:`EPISODE_KEYS`); ``"states"`` also makes a
            direct call return 1.0.0's ``(accepted, return)`` instead of a bool.
    """

    def __init__(self, name: str, random_actions: bool = False,
                 layout: str = "baseline") -> None:
        self.__name__ = self.__qualname__ = name
        self.random_actions = random_actions
        self.layout = layout

    def __call__(self, expert: Any, path: str, context: Any) -> bool | tuple[bool, float]:
        """Play one episode (1.0.0 signature); write ``<path><index>.npz`` if it is accepted.

        Args:
            expert: the policy (with ``env_id``/``name``, ``threshold``, ``predict``).
            path: prefix of the episode file (1.0.0 concatenates: give a folder with a slash).
            context: carries ``index`` and optionally ``seed`` (default: ``index``),
                ``threshold`` and ``add_log``.

        Returns:
            ``(accepted, return)`` for ``enjoy``, ``accepted`` for the others (as in 1.0.0).
        """
        seed = getattr(context, "seed", None)
        seed = int(context.index) if seed is None else int(seed)
        (episode,) = play(
            partial(make_env, *policy_env(expert)),
            [seed],
            policy=expert,
            n_envs=1,
            random_actions=self.random_actions,
        )
        given = getattr(context, "threshold", None)
        threshold: float = getattr(expert, "threshold", -math.inf) if given is None else given
        if hasattr(context, "episode_return"):
            context.episode_return = episode.episode_return
        accepted = bool(episode.episode_return >= threshold)
        if accepted:
            write_npz(f"{path}{int(context.index)}.npz", episode_columns(episode, self.layout))
            if hasattr(context, "add_log"):
                context.add_log(f"Accumulated reward {episode.episode_return}")
        if self.layout == "states":
            return accepted, episode.episode_return
        return accepted

    def __repr__(self) -> str:
        return f"imitation_datasets.functions.{self.__name__}"


class DatasetCollate:
    """A ``collate`` function that writes the dataset directory and ``teacher.npz``.

    The Controller calls :meth:`write` with the run's episodes and metadata: the Parquet folder
    holds everything; ``teacher.npz`` holds exactly 1.0.0's keys for this function
    (:data:`TEACHER_KEYS`). Called directly with the 1.0.0 signature ``collate(path, data)`` it
    merges the per-episode files ``data`` of ``path`` (1.0.0's layouts) into
    ``<path>teacher.npz`` and deletes them, as 1.0.0 did.

    Args:
        name: the function's name (``collate``, ``baseline_collate``).
        npz: also write ``teacher.npz`` (through the Controller).
        layout: ``"states"`` (``collate``) or ``"baseline"`` (``baseline_collate``).
    """

    def __init__(self, name: str, npz: bool = True, layout: str = "baseline", *,
                 mapped: bool = False) -> None:
        if mapped and npz:
            raise ValueError("a mapped dataset is written episode by episode; teacher.npz "
                             "would hold it in memory: pass npz=False with mapped=True")
        self.__name__ = self.__qualname__ = name
        self.npz = npz
        self.layout = layout
        self.mapped = mapped

    def write(self, out_dir: str | Path, episodes: Sequence[Episode],
              metadata_fn: Any) -> Path:
        """Write ``episodes`` (in order) to ``out_dir``; ``metadata_fn(arrays)`` builds metadata.

        With ``mapped`` the steps go to memory-mapped columns episode by episode
        (:class:`~imitation_datasets.data.mapped_writer.MappedWriter`): ``episodes`` may be a
        lazy sequence (the Controller's :class:`~imitation_datasets.collect.streamed.
        StagedEpisodes`), and the dataset is never held in memory.
        """
        if self.mapped:
            steps = getattr(episodes, "total_steps", None)
            with MappedWriter(out_dir, sum(e.length for e in episodes) if steps is None
                              else steps) as writer:
                for episode in episodes:
                    writer.add(episode)
                writer.finish(metadata_fn)
            return Path(out_dir)
        arrays = DatasetArrays.from_episodes(episodes)
        if self.npz:
            write_npz(Path(out_dir) / NPZ_FILE, teacher_columns(arrays, self.layout))
        return write_parquet(out_dir, arrays, metadata_fn(arrays))

    def __call__(self, path: str, data: list[str]) -> bool:
        """1.0.0 signature: merge the episode files ``data`` of ``path`` into ``teacher.npz``.

        Files are taken in the order given (1.0.0's order). Our staged ``.ep`` files are
        merged in index order into the Parquet folder and ``teacher.npz`` instead. Each 1.0.0
        file must hold this function's
        per-episode keys (:data:`EPISODE_KEYS`; ``collate`` also accepts ``obs`` for
        ``states``); ``baseline_collate`` computes a missing ``episode_returns``.

        Raises:
            ValueError: ``data`` is empty.
            DatasetFormatError: a file is unreadable or lacks a key (one line naming it).
        """
        if not data:
            raise ValueError(f"no episodes to collate in {path}")
        if all(name.endswith(EPISODE_SUFFIX) for name in data):
            return self._collate_staged(path, data)
        files = [f"{path}{name}" for name in data]
        parts: dict[str, list[np.ndarray]] = {key: [] for key in TEACHER_KEYS[self.layout]}
        for file in files:
            episode = read_episode_file(file)
            if self.layout == "states" and "states" not in episode and "obs" in episode:
                episode["states"] = episode["obs"]
            needed = ("states", "actions") if self.layout == "states" else (
                "obs", "actions", "rewards")
            missing = [key for key in needed if key not in episode]
            if missing:
                raise DatasetFormatError(f"{file}: missing key(s) {missing} for {self.__name__}")
            steps = len(episode["actions"])
            observations = episode["states" if self.layout == "states" else "obs"]
            if steps == 0 or len(observations) != steps:
                raise DatasetFormatError(f"{file}: {len(observations)} observations for "
                                         f"{steps} actions")
            starts = np.zeros(steps, dtype=np.float64)
            starts[0] = 1.0
            parts["episode_starts"].append(starts)
            parts["actions"].append(episode["actions"])
            if self.layout == "states":
                parts["states"].append(observations)
                continue
            rewards = np.asarray(episode["rewards"], dtype=np.float64).reshape(-1)
            parts["obs"].append(observations)
            parts["rewards"].append(rewards)
            returns = episode.get("episode_returns", np.array([rewards.sum()]))
            parts["episode_returns"].append(np.asarray(returns, dtype=np.float64).reshape(-1))
        write_npz(f"{path}teacher.npz",
                  {key: np.concatenate(values) for key, values in parts.items()})
        for file in files:
            os.remove(file)
        return True

    def _collate_staged(self, path: str, data: list[str]) -> bool:
        """Our staged episode files (``.ep``): the Parquet folder and ``teacher.npz`` in ``path``.

        Episodes are merged in index order. Without a Controller run there is no provenance to
        record: the metadata holds the episodes, spaces inferred from the arrays, and the call.
        """
        episodes = sorted((Episode.load(os.path.join(path, f)) for f in data),
                          key=lambda e: e.index)

        def metadata(arrays: DatasetArrays) -> dict[str, Any]:
            observation_space, action_space = infer_spaces(arrays.obs, arrays.actions)
            return build_metadata(
                arrays,
                env={"id": None, "observation_space": observation_space,
                     "action_space": action_space},
                expert={"kind": "unknown"}, collection={}, acceptance={}, reference={},
                creation={"command": f"collate({path!r}, <{len(data)} files>)"},
            )

        self.write(path, episodes, metadata)
        return True

    def __repr__(self) -> str:
        return f"imitation_datasets.functions.{self.__name__}"


baseline_enjoy = RecordingEnjoy("baseline_enjoy")
enjoy = RecordingEnjoy("enjoy", layout="states")
random_enjoy = RecordingEnjoy("random_enjoy", random_actions=True)
baseline_collate = DatasetCollate("baseline_collate")
collate = DatasetCollate("collate", layout="states")


def episode_layout(enjoy_name: str) -> str:
    """The per-episode file layout of the built-in enjoy recorded as ``enjoy_name``."""
    return "states" if enjoy_name == repr(enjoy) else "baseline"
