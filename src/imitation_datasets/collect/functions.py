"""Default ``enjoy`` and ``collate`` functions (the names of the original IL-Datasets).

``baseline_enjoy`` records one episode with the expert; ``random_enjoy`` with uniformly random
actions; ``baseline_collate`` merges staged episodes into a dataset directory (Parquet +
``metadata.json``) and a ``teacher.npz``. The Controller recognises these objects and runs them
through its fast path (several environments per worker, batched inference); they can also be
called directly with the original signatures.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import build_metadata
from imitation_datasets.data.npz import export_npz
from imitation_datasets.data.parquet import write_parquet
from imitation_datasets.data.schema import NPZ_FILE, infer_spaces


def policy_env(policy: Any) -> tuple[str, dict[str, Any]]:
    """The Gymnasium id (``env_id``, else ``name``) and ``gym.make`` kwargs a policy plays."""
    return (getattr(policy, "env_id", None) or policy.name,
            dict(getattr(policy, "env_kwargs", None) or {}))


class RecordingEnjoy:
    """An ``enjoy`` function that records whole episodes with their seeds.

    It keeps observations, actions, rewards, ``terminated`` and ``truncated``, the final
    observation, the return, and the reset seed.

    Args:
        random_actions: play uniformly random actions (seeded by the episode seed).
    """

    def __init__(self, name: str, random_actions: bool = False) -> None:
        self.__name__ = self.__qualname__ = name
        self.random_actions = random_actions

    def __call__(self, expert: Any, path: str, context: Any) -> bool:
        """Play one episode (original signature); stage it if its return reaches the threshold.

        Args:
            expert: the policy (with ``env_id``/``name``, ``threshold``, ``predict``).
            path: folder to write ``episode_<index>.ep`` into.
            context: carries ``index`` and optionally ``seed``, ``attempt`` and ``threshold``.
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
        if episode.episode_return < threshold:
            return False
        episode.index = int(context.index)
        episode.attempt = int(getattr(context, "attempt", 0))
        episode.save(Path(path) / f"episode_{int(context.index):07d}.ep")
        if hasattr(context, "add_log"):
            context.add_log(f"Accumulated reward {episode.episode_return}")
        return True

    def __repr__(self) -> str:
        return f"imitation_datasets.functions.{self.__name__}"


class DatasetCollate:
    """A ``collate`` function that writes the dataset directory and ``teacher.npz``.

    The Controller calls :meth:`write` with the run's metadata. Called directly with the original
    signature ``collate(path, data)`` it merges the listed episode files of ``path`` in index
    order and writes the dataset into ``path`` without provenance beyond the episodes.
    """

    def __init__(self, name: str, npz: bool = True) -> None:
        self.__name__ = self.__qualname__ = name
        self.npz = npz

    def write(self, out_dir: str | Path, episodes: Sequence[Episode],
              metadata_fn: Any) -> Path:
        """Write ``episodes`` (in order) to ``out_dir``; ``metadata_fn(arrays)`` builds metadata."""
        arrays = DatasetArrays.from_episodes(episodes)
        if self.npz:
            export_npz(arrays, Path(out_dir) / NPZ_FILE)
        return write_parquet(out_dir, arrays, metadata_fn(arrays))

    def __call__(self, path: str, data: list[str]) -> bool:
        """Original signature: merge ``data`` (episode files in ``path``) into a dataset.

        Without a Controller run there is no provenance to record: the metadata holds the
        episodes, spaces inferred from the arrays, and the call itself.
        """
        episodes = sorted((Episode.load(os.path.join(path, f)) for f in data),
                          key=lambda e: e.index)
        if not episodes:
            raise ValueError(f"no episodes to collate in {path}")

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
enjoy = RecordingEnjoy("enjoy")
random_enjoy = RecordingEnjoy("random_enjoy", random_actions=True)
baseline_collate = DatasetCollate("baseline_collate")
collate = DatasetCollate("collate")
