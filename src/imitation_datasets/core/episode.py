"""One recorded episode and its atomic, pickle-free staging file."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imitation_datasets.core.atomic import atomic_write_bytes
from imitation_datasets.core.errors import ImitationDatasetsError

MAGIC = b"ILDS-EPISODE-1\n"
"""First bytes of a staged episode file; then a little-endian u64 header size, the JSON header,
and the arrays' raw bytes in header order."""


class EpisodeFileError(ImitationDatasetsError, ValueError):
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
    states: np.ndarray | None = None
    """A pixel episode's state observations (the policy's), one per step, when kept."""
    final_state: np.ndarray | None = None
    """The state after the last step, with :attr:`states`."""

    def __post_init__(self) -> None:
        n = len(self.rewards)
        if len(self.obs) != n or len(self.actions) != n:
            raise ValueError(
                f"episode arrays disagree in length: obs {len(self.obs)}, "
                f"actions {len(self.actions)}, rewards {n}"
            )
        if n == 0:
            raise ValueError("an episode needs at least one step")
        if (self.states is None) != (self.final_state is None) or (
                self.states is not None and len(self.states) != n):
            raise ValueError("states need one row per step and a final_state")

    @property
    def length(self) -> int:
        """Number of steps."""
        return len(self.rewards)

    @property
    def episode_return(self) -> float:
        """Sum of rewards, accumulated in float64."""
        return float(np.sum(self.rewards, dtype=np.float64))

    def to_bytes(self) -> bytes:
        """Serialise to the staging format.

        :data:`MAGIC`, a u64 header size, a JSON header, then the arrays' raw bytes in header
        order (read back with ``np.frombuffer``).
        """
        arrays = {
            "obs": np.ascontiguousarray(self.obs),
            "actions": np.ascontiguousarray(self.actions),
            "rewards": np.ascontiguousarray(self.rewards, dtype=np.float64),
            "final_obs": np.ascontiguousarray(self.final_obs),
            "rejected_returns": np.asarray(self.rejected_returns, dtype=np.float64),
        }
        if self.states is not None:  # only then: the bytes of other episodes are unchanged
            arrays["states"] = np.ascontiguousarray(self.states)
            arrays["final_state"] = np.ascontiguousarray(self.final_state)
        header = {
            "terminated": bool(self.terminated),
            "truncated": bool(self.truncated),
            "seed": None if self.seed is None else int(self.seed),
            "index": int(self.index),
            "attempt": int(self.attempt),
            "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        }
        blob = json.dumps(header).encode()
        return b"".join([MAGIC, struct.pack("<Q", len(blob)), blob,
                         *(a.tobytes() for a in arrays.values())])

    def save(self, path: str | Path) -> None:
        """Write the episode to ``path`` atomically (temporary file, then rename).

        A process killed mid-write leaves only a temporary file, never a partial episode.
        """
        atomic_write_bytes(path, self.to_bytes(), durable=False)  # replayed when lost

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> Episode:
        """Parse :meth:`to_bytes` output (plain bytes; never unpickles)."""
        try:
            if not data.startswith(MAGIC):
                raise ValueError("bad magic bytes")
            offset = len(MAGIC) + 8
            (size,) = struct.unpack("<Q", data[len(MAGIC):offset])
            header = json.loads(data[offset:offset + size])
            offset += size
            arrays = {}
            for name, dtype, shape in header["arrays"]:
                dtype = np.dtype(dtype)
                if dtype.hasobject:
                    raise ValueError("object arrays are not allowed")
                count = int(np.prod(shape, dtype=np.int64))
                arrays[name] = np.frombuffer(data, dtype, count, offset).reshape(shape)
                offset += count * dtype.itemsize
            if offset != len(data):
                raise ValueError(f"{len(data) - offset} unexpected trailing bytes")
            return cls(
                obs=arrays["obs"],
                actions=arrays["actions"],
                rewards=arrays["rewards"],
                final_obs=arrays["final_obs"],
                terminated=bool(header["terminated"]),
                truncated=bool(header["truncated"]),
                seed=header["seed"],
                index=int(header["index"]),
                attempt=int(header["attempt"]),
                rejected_returns=tuple(float(r) for r in arrays["rejected_returns"]),
                states=arrays.get("states"),
                final_state=arrays.get("final_state"),
            )
        except (KeyError, ValueError, TypeError, struct.error) as exc:
            raise EpisodeFileError(f"{source}: not a readable episode file ({exc})") from None

    @classmethod
    def load(cls, path: str | Path) -> Episode:
        """Read an episode written by :meth:`save`."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise EpisodeFileError(f"{path}: cannot read ({exc})") from None
        return cls.from_bytes(data, str(path))
