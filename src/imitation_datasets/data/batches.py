"""Shuffled batches of transitions without a per-item ``__getitem__``.

:class:`TransitionLoader` replaces ``DataLoader(dataset, batch_size, shuffle=True)``: it draws
one permutation per epoch from an explicitly seeded ``torch.Generator`` and gathers each batch
with a few tensor indexing operations. :class:`TransitionBatchSampler` yields the index tensors
only, for ``DataLoader(dataset, sampler=..., batch_size=None)`` (worker processes, pinning).

The same seed gives the same batches, epoch after epoch, run after run.

``DataLoader(dataset, batch_size=B)`` itself (the paper's path) is batched too: torch's fetcher
calls ``dataset.__getitems__(indices)``, which returns a :class:`GatheredBatch` (one gather; it
is also the list of ``B`` items a custom ``collate_fn`` expects), and ``default_collate``
recognises its items (:class:`BatchItem`, registered in torch's ``default_collate_fn_map``) and
returns the gathered tensors as they are, instead of stacking ``B`` items one by one. The result
is exactly what stacking the items would give: a list of tensors, the same values and dtypes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, overload

import torch
from torch.utils.data import Sampler
from torch.utils.data._utils.collate import collate, default_collate_fn_map


class Gatherable(Protocol):
    """A dataset that returns a whole batch for a tensor of indices."""

    def __len__(self) -> int:
        """Number of items."""
        ...

    def gather(self, index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The items at ``index``, batched."""
        ...


def seeded_generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    """``generator`` if given, else a new CPU generator seeded with ``seed``."""
    if generator is not None:
        return generator
    if seed is None:
        raise ValueError("pass a seed (int) or a torch.Generator: shuffling is always seeded")
    return torch.Generator().manual_seed(int(seed))


BLOCK_ROWS = 1 << 14
"""Rows of one block of a windowed order (contiguous on disk, so read at once)."""


class TransitionBatchSampler(Sampler[torch.Tensor]):
    """Yields 1-D int64 index tensors of ``batch_size`` (shuffled each epoch when ``shuffle``).

    Args:
        length: number of items.
        batch_size: items per batch.
        shuffle: draw a new permutation for each epoch (``iter()``).
        seed: seed of the permutation generator (ignored when ``generator`` is given).
        generator: a ``torch.Generator`` to draw permutations from.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        window: ``None`` (default): one permutation of all items. An int: a *windowed* order for
            datasets larger than memory: the items are cut into blocks of :data:`BLOCK_ROWS`
            consecutive rows, the blocks are shuffled, consecutive blocks are grouped into
            windows of about ``window`` rows, and the rows of each window are shuffled. Each
            item is still visited once per epoch; a window touches only its blocks, so a
            memory-mapped dataset whose pages are released after each window
            (:meth:`TransitionLoader.__iter__`) stays resident at about one window. Memory for
            the order itself is ``O(window + length / BLOCK_ROWS)`` instead of ``O(length)``.
    """

    def __init__(self, length: int, batch_size: int = 1024, *, shuffle: bool = True,
                 seed: int | None = 0, generator: torch.Generator | None = None,
                 drop_last: bool = False, window: int | None = None) -> None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if window is not None and int(window) < 1:
            raise ValueError(f"window must be >= 1 row (or None), got {window}")
        self.length = int(length)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.window = None if window is None else int(window)
        self.generator = seeded_generator(seed, generator) if shuffle else None

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch, _ in self.batches_by_window():
            yield batch

    def batches_by_window(self) -> Iterator[tuple[torch.Tensor, bool]]:
        """``(indices, last_of_its_window)`` for each batch of an epoch."""
        carry = torch.zeros(0, dtype=torch.int64)
        size = self.batch_size
        for order in self._window_orders():
            order = torch.cat([carry, order]) if len(carry) else order
            full = len(order) // size * size
            for start in range(0, full, size):
                yield order[start:start + size], start + size == full
            carry = order[full:]
        if len(carry) and not self.drop_last:
            yield carry, True

    def _window_orders(self) -> Iterator[torch.Tensor]:
        if self.window is None:
            yield (torch.randperm(self.length, generator=self.generator) if self.shuffle
                   else torch.arange(self.length))
            return
        block = min(BLOCK_ROWS, self.window)
        n_blocks = -(-self.length // block)
        blocks = (torch.randperm(n_blocks, generator=self.generator) if self.shuffle
                  else torch.arange(n_blocks))
        per_window = max(1, self.window // block)
        offsets = torch.arange(block)
        for first in range(0, n_blocks, per_window):
            rows = (blocks[first:first + per_window, None] * block + offsets).reshape(-1)
            rows = rows[rows < self.length]
            yield rows[torch.randperm(len(rows), generator=self.generator)] if self.shuffle \
                else rows

    def __len__(self) -> int:
        if self.drop_last:
            return self.length // self.batch_size
        return -(-self.length // self.batch_size)


class TransitionLoader:
    """Iterates batches ``dataset.gather(indices)`` in a seeded random order.

    Use it in place of a ``DataLoader``::

        for states, actions, next_states in dataset.batches(1024, seed=0):
            ...

    Args:
        dataset: a ``BaselineDataset`` (or anything with ``__len__`` and ``gather``).
        batch_size, shuffle, seed, generator, drop_last, window: as in
            :class:`TransitionBatchSampler`.
    """

    def __init__(self, dataset: Gatherable, batch_size: int = 1024, *, shuffle: bool = True,
                 seed: int | None = 0, generator: torch.Generator | None = None,
                 drop_last: bool = False, window: int | None = None) -> None:
        self.dataset = dataset
        self.sampler = TransitionBatchSampler(len(dataset), batch_size, shuffle=shuffle,
                                              seed=seed, generator=generator,
                                              drop_last=drop_last, window=window)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        """Gathered batches, in the sampler's order.

        With a ``window``, the dataset's mapped pages are released after each window
        (``dataset.release_pages()``, when it has one).
        """
        release = getattr(self.dataset, "release_pages", None) \
            if self.sampler.window is not None else None
        for index, window_end in self.sampler.batches_by_window():
            yield self.dataset.gather(index)
            if window_end and release is not None:
                release()

    def __len__(self) -> int:
        return len(self.sampler)

    def __repr__(self) -> str:
        sampler: Any = self.sampler
        return (f"TransitionLoader({len(self.dataset)} items, batch_size={sampler.batch_size}, "
                f"shuffle={sampler.shuffle}, drop_last={sampler.drop_last})")


class BatchItem(tuple):
    """One item of a :class:`GatheredBatch`: a plain tuple of tensors, tagged for collation."""

    __slots__ = ()


class GatheredBatch(Sequence[tuple[torch.Tensor, ...]]):
    """A batch gathered at once, seen as the list of its items (what ``__getitems__`` returns).

    ``default_collate`` returns :attr:`parts` unchanged (a list, as it returns for tuple items);
    a custom ``collate_fn`` sees ``len(batch)`` items, ``batch[i]`` a tuple of row views.

    Args:
        parts: the batched tensors, each with the batch as its leading axis.
    """

    def __init__(self, parts: tuple[torch.Tensor, ...]) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return len(self.parts[0])

    @overload
    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[torch.Tensor, ...]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} out of range for a batch of {len(self)}")
        return BatchItem([part[index] for part in self.parts])


def collate_gathered(batch: Sequence[BatchItem], *,
                     collate_fn_map: dict[Any, Callable[..., Any]] | None = None
                     ) -> list[torch.Tensor]:
    """``default_collate`` of :class:`BatchItem` s: the gathered tensors when ``batch`` is whole.

    Items taken out of their batch (a list of them) are collated field by field, as tuples are.
    """
    if isinstance(batch, GatheredBatch):
        return list(batch.parts)
    return [collate(list(field), collate_fn_map=collate_fn_map) for field in zip(*batch)]


default_collate_fn_map[BatchItem] = collate_gathered
