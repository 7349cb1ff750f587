"""Shuffled batches of transitions without a per-item ``__getitem__``.

:class:`TransitionLoader` replaces ``DataLoader(dataset, batch_size, shuffle=True)``: it draws
one permutation per epoch from an explicitly seeded ``torch.Generator`` and gathers each batch
with a few tensor indexing operations. :class:`TransitionBatchSampler` yields the index tensors
only, for ``DataLoader(dataset, sampler=..., batch_size=None)`` (worker processes, pinning).
:class:`WindowedBatchSampler` (``BaselineDataset.batch_sampler``) is the ``batch_sampler`` of a
``DataLoader`` that reads ``batches()``'s order, epoch by epoch (``set_epoch``), and releases a
memory-mapped dataset's pages window by window in the process that reads them.

The same seed gives the same batches, epoch after epoch, run after run. There is one
implementation of the order, :meth:`TransitionBatchSampler.batches_by_window`; the loader and
both samplers read it.

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

import numpy as np
import torch
from torch.utils.data import Sampler
from torch.utils.data._utils.collate import collate, default_collate_fn_map

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.seeding import loader_epoch_seed


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
        raise ConfigError("pass a seed (int) or a torch.Generator: shuffling is always seeded")
    return torch.Generator().manual_seed(int(seed))


def whole_number(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, or a :class:`ConfigError` naming argument ``name``.

    Refuses bools, floats and strings (``batch_size=2.5`` is a mistake, not 2).
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (NumPy's included), else a :class:`ConfigError` naming ``name``."""
    if not isinstance(value, bool | np.bool_):
        raise ConfigError(f"{name} must be True or False, got {value!r}")
    return bool(value)


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
        self.length = whole_number("length", length, 0)
        self.batch_size = whole_number("batch_size", batch_size, 1)
        self.shuffle = flag("shuffle", shuffle)
        self.drop_last = flag("drop_last", drop_last)
        self.window = None if window is None else whole_number("window (rows, or None)",
                                                                 window, 1)
        self.generator = seeded_generator(seed, generator) if shuffle else None

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch, _ in self.batches_by_window():
            yield batch

    def batches_by_window(self) -> Iterator[tuple[torch.Tensor, bool]]:
        """``(indices, last_of_its_window)`` for each batch of an epoch.

        A batch never holds more than the rows of its window and of the one before it (the
        rows left over when a window's rows are not a whole number of batches).
        """
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


class WindowBatch(Sequence[int]):
    """The indices of one batch of a :class:`WindowedBatchSampler`, tagged with their window.

    A sequence of ints (what a ``batch_sampler`` yields for any map-style dataset) that is also
    an array (``np.asarray``). ``BaselineDataset.__getitems__`` reads :attr:`window`: when it
    changes, the process that gathers the batch releases the pages it mapped for the windows
    before, in the main process as in each worker.

    Args:
        indices: the batch's indices (1-D int64).
        window: ``(sampler id, run, window)``, distinct for every window of every epoch.
    """

    __slots__ = ("indices", "window")

    def __init__(self, indices: np.ndarray, window: tuple[int, int, int]) -> None:
        self.indices = indices
        self.window = window

    def __len__(self) -> int:
        return len(self.indices)

    @overload
    def __getitem__(self, position: int) -> int: ...

    @overload
    def __getitem__(self, position: slice) -> Sequence[int]: ...

    def __getitem__(self, position: int | slice) -> Any:
        if isinstance(position, slice):
            return self.indices[position].tolist()
        return int(self.indices[position])

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices.tolist())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = self.indices if dtype is None else self.indices.astype(dtype, copy=False)
        return out.copy() if copy else out

    def __repr__(self) -> str:
        return f"WindowBatch({len(self)} indices, window {self.window[2]})"


class WindowedBatchSampler(Sampler[WindowBatch]):
    """``DataLoader(dataset, batch_sampler=...)`` in ``dataset.batches()``'s order, epoch by epoch.

    Each epoch yields the batches of indices of :class:`TransitionBatchSampler` ``(length,
    batch_size, shuffle=shuffle, seed=epoch_seed(epoch), drop_last=drop_last, window=window)``:
    epoch 0 is exactly the order of ``dataset.batches(batch_size, shuffle=shuffle, seed=seed,
    drop_last=drop_last, window=window)``, so ``DataLoader(dataset, batch_sampler=sampler)``
    gives the same batches, item for item, as ``batches()`` (with ``dataset.batch_sampler``).

    Epochs: every ``iter()`` (each ``for batch in loader``) reads the next epoch, ``0, 1, 2, ...``,
    each shuffled anew from ``(seed, epoch)`` alone (:func:`~imitation_datasets.core.seeding.
    loader_epoch_seed`): reproducible, and independent of how much of the epochs before was
    read. :meth:`set_epoch` chooses the epoch the next ``iter()`` reads (to resume a run, or to
    repeat an epoch), as ``DistributedSampler.set_epoch`` does; a loop that calls it every epoch
    and one that never does read the same orders.

    Memory: with ``window`` (rows), a memory-mapped dataset stays resident at about one window in
    the process that reads it. Each batch carries its window (:class:`WindowBatch`); when the
    window changes, the dataset (``BaselineDataset.__getitems__``) releases the pages it had
    mapped, and ``release`` runs when an epoch ends. With ``num_workers=0`` that process is the
    main one. With ``num_workers=N`` each worker maps the pages of the batches it reads and
    releases them when its next batch starts a new window (the main process reads no data):
    in ``benchmarks/loading_scale.py`` (2 workers, windows of 2^20 rows, 20M steps) the largest
    worker peaked at about one window's pages, the same at 10M, and ``tests/
    test_window_sampler.py`` checks that a worker's peak does not grow with the dataset. The
    workers' RSS all count mapped file pages, which are the kernel's page cache, shared between
    them. A persistent worker keeps its last window of an epoch mapped until its first batch of
    the next one. Workers send each batch through shared memory, which costs more than the
    gather itself: they pay off when a batch needs real work (a transform, image decoding).

    Args:
        length: number of items.
        batch_size: items per batch.
        shuffle: shuffle (blocks, then rows inside windows); ``False`` reads ``0, 1, 2, ...``.
        seed: seed of epoch 0 (later epochs derive theirs from it).
        drop_last: drop each epoch's last batch when it is smaller than ``batch_size``.
        window: rows per window (see :class:`TransitionBatchSampler`); ``None``: one permutation
            of all items (the whole dataset is one window).
        release: called when an epoch has been read (the dataset's ``release_pages``).

    Raises:
        ConfigError: an argument is not an integer/bool or is out of range (its name given).
    """

    def __init__(self, length: int, batch_size: int = 1024, *, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False, window: int | None = None,
                 release: Callable[[], None] | None = None) -> None:
        self.seed = whole_number("seed", seed, 0)
        self.order = TransitionBatchSampler(length, batch_size, shuffle=shuffle, seed=seed,
                                            drop_last=drop_last, window=window)
        self.release = release
        self._epoch = 0
        self._runs = 0

    @property
    def epoch(self) -> int:
        """The epoch the next ``iter()`` reads."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Read epoch ``epoch`` next (then ``epoch + 1``, ...)."""
        self._epoch = whole_number("epoch", epoch, 0)

    def epoch_seed(self, epoch: int) -> int:
        """The seed of epoch ``epoch``'s order (``seed`` for epoch 0)."""
        return loader_epoch_seed(self.seed, whole_number("epoch", epoch, 0))

    def epoch_order(self, epoch: int) -> TransitionBatchSampler:
        """The batches of epoch ``epoch``, as index tensors."""
        order = self.order
        return TransitionBatchSampler(order.length, order.batch_size, shuffle=order.shuffle,
                                      seed=self.epoch_seed(epoch), drop_last=order.drop_last,
                                      window=order.window)

    def __iter__(self) -> Iterator[WindowBatch]:
        # A generator: the epoch is taken when the first batch is asked for, so iterators that
        # are made and never read (DataLoader makes two per epoch with workers) take none.
        epoch, self._epoch = self._epoch, self._epoch + 1
        self._runs += 1
        window = 0
        for index, window_end in self.epoch_order(epoch).batches_by_window():
            yield WindowBatch(index.numpy(), (id(self), self._runs, window))
            window += window_end
        if self.release is not None:
            self.release()

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.order)

    def __repr__(self) -> str:
        order = self.order
        return (f"WindowedBatchSampler({order.length} items, batch_size={order.batch_size}, "
                f"shuffle={order.shuffle}, seed={self.seed}, window={order.window}, "
                f"drop_last={order.drop_last}, next epoch {self._epoch})")


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
