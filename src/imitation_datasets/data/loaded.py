""":class:`LoadedData`, what every storage backend's ``read`` returns, and the one check of it.

Every source goes through :func:`validate_loaded` before anything trains on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.data.arrays import (
    DatasetArrays,
    check_episode_flags,
    check_finite,
    conform_to_spaces,
)
from imitation_datasets.data.metadata import check_against_data
from imitation_datasets.data.schema import FORMAT_NAME, metadata_spaces


@dataclass
class LoadedData:
    """A dataset in memory: its arrays, its metadata and where it came from.

    ``metadata`` is ``None`` when the source has none; ``origin`` is a path,
    ``hf://datasets/<repo>`` or ``minari://<id>``.
    """

    arrays: DatasetArrays
    metadata: dict[str, Any] | None
    origin: str


def validate_loaded(loaded: LoadedData, *, allow_nonfinite: bool = False) -> LoadedData:
    """Refuse loaded data that is not what its files say (every source goes through this).

    Checks: ``terminated``/``truncated`` are 0/1 and set only on an episode's last step; no NaN
    or infinity in observations, final observations, actions or rewards unless
    ``allow_nonfinite``; and, when there is metadata of ours, that its spaces fit the arrays
    (shape and dtype; Discrete actions whole and in range, returned as int64) and its counts
    and returns are those of the data. Vectorised; a few temporary bytes per episode, none per
    step beyond small fixed-size chunks.

    Raises:
        DatasetFormatError: one line naming the origin and the problem.
    """
    arrays, origin = loaded.arrays, loaded.origin
    check_episode_flags(arrays, origin)
    if not allow_nonfinite:
        check_finite(arrays, origin)
    if loaded.metadata is None or loaded.metadata.get("format") != FORMAT_NAME:
        return loaded
    check_against_data(loaded.metadata, arrays, origin)
    arrays = conform_to_spaces(arrays, *metadata_spaces(loaded.metadata), origin)
    return loaded if arrays is loaded.arrays else LoadedData(arrays, loaded.metadata, origin)


def single_split(path: str | Path, split: str) -> None:
    """Refuse a ``split`` other than ``"train"`` for a source that holds only one.

    Raises:
        ValueError: naming the path and the way to cut it by episodes instead.
    """
    if split != "train":
        raise ValueError(
            f"hf_split={split!r}: {path} holds a single split ('train'); use split= and "
            "n_episodes= to cut it by episodes"
        )
