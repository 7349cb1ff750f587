"""One recorded episode and its atomic, pickle-free staging file."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class EpisodeFileError(ValueError):
    """A staged episode file is missing, truncated or malformed."""


@dataclass
class Episode:
    """A finished episode: ``T`` steps, plus the observation reached after the last step.

    ``obs[t]`` is the observation the action ``actions[t]`` was taken in; ``rewards[t]`` the reward
    received for it. ``final_obs`` is the observation after step ``T - 1`` (the terminal or
    truncation state), so no transition is lost.
    """

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    final_obs: np.ndarray
    terminated: bool
    truncated: bool
    seed: int | None = None
    index: int = -1
    attempt: int = 0
    rejected_returns: tuple[float, ...] = ()
    """Returns of the earlier, rejected attempts at this index (NaN where the attempt failed)."""

    def __post_init__(self) -> None:
        n = len(self.rewards)
        if len(self.obs) != n or len(self.actions) != n:
            raise ValueError(
                f"episode arrays disagree in length: obs {len(self.obs)}, "
                f"actions {len(self.actions)}, rewards {n}"
            )
        if n == 0:
            raise ValueError("an episode needs at least one step")

    @property
    def length(self) -> int:
        """Number of steps."""
        return len(self.rewards)

    @property
    def episode_return(self) -> float:
        """Sum of rewards, accumulated in float64."""
        return float(np.sum(self.rewards, dtype=np.float64))

    def save(self, path: str | Path) -> None:
        """Write the episode to ``path`` atomically (temporary file, fsync, rename)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            np.savez(
                handle,
                obs=self.obs,
                actions=self.actions,
                rewards=self.rewards,
                final_obs=self.final_obs,
                flags=np.array([self.terminated, self.truncated]),
                ids=np.array([-1 if self.seed is None else self.seed, self.index, self.attempt],
                             dtype=np.int64),
                rejected_returns=np.asarray(self.rejected_returns, dtype=np.float64),
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> Episode:
        """Read an episode written by :meth:`save` (never unpickles)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                flags, ids = data["flags"], data["ids"]
                return cls(
                    obs=data["obs"],
                    actions=data["actions"],
                    rewards=data["rewards"],
                    final_obs=data["final_obs"],
                    terminated=bool(flags[0]),
                    truncated=bool(flags[1]),
                    seed=None if ids[0] < 0 else int(ids[0]),
                    index=int(ids[1]),
                    attempt=int(ids[2]),
                    rejected_returns=tuple(float(r) for r in data["rejected_returns"]),
                )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise EpisodeFileError(f"{path}: not a readable episode file ({exc})") from None
