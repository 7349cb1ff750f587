"""The one place where methods get their data: transitions and shuffled minibatches.

Both come from the library's data layer: ``(s, a, s')`` are gathered by
:class:`~imitation_datasets.data.torch_dataset.BaselineDataset` (transitions never cross an
episode boundary; the last step uses the episode's final observation), and every training batch
is drawn by :class:`~imitation_datasets.data.batches.TransitionLoader` (one seeded permutation
per epoch, batches gathered with tensor indexing, no per-item ``__getitem__``).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.batches import TransitionLoader
from imitation_datasets.data.torch_dataset import BaselineDataset


def transitions(data: DatasetArrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(s, a, s')`` of every transition, observations flattened to float32 rows.

    When final observations are unknown (the original layout) each episode's last step has no
    ``s'`` and is left out.
    """
    dataset = BaselineDataset.from_arrays(data)
    s, a, s_next = dataset.gather(torch.arange(len(dataset)))
    rows = len(s)
    actions = a.float() if a.is_floating_point() else a.long()
    return s.reshape(rows, -1).float(), actions, s_next.reshape(rows, -1).float()


class Tensors:
    """Aligned tensors (inputs, targets, ...) as a dataset :class:`TransitionLoader` can batch."""

    def __init__(self, *tensors: torch.Tensor) -> None:
        if len({len(t) for t in tensors}) != 1:
            raise ValueError(f"tensors disagree in length: {[len(t) for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def gather(self, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The rows ``index`` of every tensor."""
        return tuple(t[index] for t in self.tensors)


def minibatches(tensors: tuple[torch.Tensor, ...], batch_size: int,
                generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
    """One epoch of shuffled minibatches over aligned tensors.

    Every row appears once; the last batch may be smaller. The order depends only on
    ``generator``'s state.
    """
    return iter(TransitionLoader(Tensors(*tensors), batch_size, generator=generator))
