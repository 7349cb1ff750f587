"""A run's staged episodes read one at a time: collation that never holds the dataset.

:class:`StagedEpisodes` is the sequence of episodes a mapped collate
(``DatasetCollate(..., mapped=True)``) writes: each episode is read from its staging log and
decoded when it is needed, so memory is one episode (plus a few numbers per episode), whatever
the size of the run. The staged files are checked once, up front, so a corrupt one stops the
collation before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import overload

from imitation_datasets.collect.staging import EpisodeLocation
from imitation_datasets.core.episode import Episode


class StagedEpisodes(Sequence[Episode]):
    """Episodes ``0 .. count-1`` of a run, decoded on access from where they are staged.

    Args:
        locations: where each episode's payload lies (``Staging.episode_locations``); every
            index below ``count`` must be present.
        source: the staging folder, named in errors.
        count: the number of episodes.

    Raises:
        EpisodeFileError: a staged payload does not decode (checked for every episode here).
    """

    def __init__(self, locations: dict[int, EpisodeLocation], source: str | Path,
                 count: int) -> None:
        self.locations = locations
        self.source = str(source)
        self.n_episodes = int(count)
        self.total_steps = sum(episode.length for episode in self)

    def __len__(self) -> int:
        return self.n_episodes

    @overload
    def __getitem__(self, index: int) -> Episode: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Episode]: ...

    def __getitem__(self, index: int | slice) -> Episode | Sequence[Episode]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.n_episodes))]
        if index < 0:
            index += self.n_episodes
        if not 0 <= index < self.n_episodes:
            raise IndexError(f"episode {index} out of range for {self.n_episodes} episodes")
        return Episode.from_bytes(self.locations[index].read(),
                                  f"{self.source} (episode {index})")
