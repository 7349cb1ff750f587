"""``DataLoader(dataset, batch_sampler=dataset.batch_sampler(...))``: batches()'s windowed order.

What a user relies on: the DataLoader gives the same batches as ``batches()``, every row once per
epoch, epochs that differ but replay, one-line errors naming the argument, and memory that does
not grow with the dataset (the RSS probe of ``test_loading_scale``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_loading_scale import (
    assert_same,
    needs_proc,
    peak_of_an_epoch,
    synthetic_arrays,
    write_synthetic_mapped,
)
from torch.utils.data import DataLoader

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.data.batches import WindowBatch, WindowedBatchSampler
from imitation_datasets.data.torch_dataset import BaselineDataset, IRLDataset, SequenceDataset


@pytest.fixture(scope="module")
def dataset():
    return BaselineDataset.from_arrays(synthetic_arrays(400))  # about 2,000 transitions


def epoch_indices(sampler) -> list[int]:
    return [i for batch in sampler for i in batch]


@pytest.mark.parametrize("options", [
    dict(batch_size=50, window=300, seed=1),
    dict(batch_size=64, window=100, seed=2, drop_last=True),
    dict(batch_size=33, window=None, seed=3),
    dict(batch_size=40, window=128, shuffle=False),
    dict(batch_size=7, window=5000, seed=4),  # one window larger than the dataset
])
def test_dataloader_gives_the_batches_of_batches_item_for_item(dataset, options):
    size = options.pop("batch_size")
    sampler = dataset.batch_sampler(size, **options)
    loader = DataLoader(dataset, batch_sampler=sampler)
    ours = list(dataset.batches(size, **options))
    assert len(loader) == len(sampler) == len(ours)
    batches = list(loader)
    assert len(batches) == len(ours)
    for batch, gathered in zip(batches, ours):
        assert_same(batch, list(gathered))


@pytest.mark.parametrize("make", [
    lambda: IRLDataset.from_arrays(synthetic_arrays(60, discrete=True)),
    lambda: SequenceDataset.from_arrays(synthetic_arrays(60), sequence_length=3, stride=2),
])
def test_subclasses_read_the_same_batches(make):
    data = make()
    loader = DataLoader(data, batch_sampler=data.batch_sampler(16, window=40, seed=5))
    for batch, gathered in zip(loader, data.batches(16, window=40, seed=5), strict=True):
        assert_same(batch, list(gathered))


def test_worker_processes_read_the_same_batches(dataset):
    single = list(DataLoader(dataset, batch_sampler=dataset.batch_sampler(100, window=500)))
    workers = list(DataLoader(dataset, batch_sampler=dataset.batch_sampler(100, window=500),
                              num_workers=2))
    assert len(single) == len(workers)
    for a, b in zip(single, workers):
        assert_same(b, a)


@pytest.mark.parametrize("drop_last", [False, True])
def test_every_row_once_per_epoch(dataset, drop_last):
    n = len(dataset)
    sampler = dataset.batch_sampler(64, window=256, seed=0, drop_last=drop_last)
    for _ in range(3):
        batches = list(sampler)
        assert len(batches) == len(sampler)
        rows = [i for batch in batches for i in batch]
        if drop_last:
            assert all(len(batch) == 64 for batch in batches)
            assert len(rows) == n // 64 * 64 and len(set(rows)) == len(rows)
        else:
            assert sorted(rows) == list(range(n))
    ordered = epoch_indices(dataset.batch_sampler(64, window=256, shuffle=False))
    assert ordered == list(range(n))


def test_epochs_differ_and_replay(dataset):
    sampler = dataset.batch_sampler(50, window=300, seed=7)
    assert sampler.epoch == 0
    epochs = [epoch_indices(sampler) for _ in range(3)]
    assert sampler.epoch == 3
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]
    # epoch n depends on (seed, n) only: a new sampler, set_epoch, or a DataLoader over it
    again = dataset.batch_sampler(50, window=300, seed=7)
    again.set_epoch(2)
    assert epoch_indices(again) == epochs[2]
    assert again.epoch == 3
    again.set_epoch(1)
    loader = DataLoader(dataset, batch_sampler=again)
    assert torch.equal(torch.cat([b[1] for b in loader]), dataset.gather(epochs[1])[1])
    # an epoch read in part does not change the next one
    partial = dataset.batch_sampler(50, window=300, seed=7)
    next(iter(partial))
    assert epoch_indices(partial) == epochs[1]
    # iterators made and never read (DataLoader makes two per epoch with workers) take no epoch
    unread = dataset.batch_sampler(50, window=300, seed=7)
    iter(unread), iter(unread)
    assert epoch_indices(unread) == epochs[0]
    # each epoch is the first epoch of batches() with that epoch's seed
    assert epoch_indices(sampler.epoch_order(2)) == epochs[2]
    assert sampler.epoch_seed(0) == 7
    first = torch.cat([b[1] for b in dataset.batches(50, window=300,
                                                     seed=sampler.epoch_seed(2))])
    assert torch.equal(first, dataset.gather(epochs[2])[1])
    # a different seed, a different order; unshuffled epochs are all the same
    assert epoch_indices(dataset.batch_sampler(50, window=300, seed=8)) != epochs[0]
    plain = dataset.batch_sampler(50, window=300, shuffle=False)
    assert epoch_indices(plain) == epoch_indices(plain)


def test_batches_are_index_sequences_any_dataset_can_read():
    sampler = WindowedBatchSampler(10, 4, window=4, seed=0)
    batches = list(sampler)
    assert [len(b) for b in batches] == [4, 4, 2]
    first = batches[0]
    assert isinstance(first, WindowBatch) and all(isinstance(i, int) for i in first)
    assert list(first) == first.indices.tolist() and first[1:3] == first.indices[1:3].tolist()
    assert np.asarray(first).dtype == np.int64
    assert [b.window[2] for b in batches] == [0, 1, 2]
    plain = list(DataLoader(list(range(100, 110)), batch_sampler=sampler))  # a plain list
    assert sorted(torch.cat(plain).tolist()) == list(range(100, 110))


def test_finished_windows_are_released_in_the_reading_process(dataset, monkeypatch):
    releases = []
    monkeypatch.setattr(dataset, "release_pages", lambda: releases.append(1))
    sampler = dataset.batch_sampler(100, window=500, seed=0)
    windows = len({batch.window for batch in sampler})
    releases.clear()
    for _ in DataLoader(dataset, batch_sampler=sampler):
        pass
    # once as each window starts being read, once when the epoch has been read
    assert windows > 2 and len(releases) == windows + 1


@pytest.mark.parametrize(("options", "name"), [
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(batch_size="64"), "batch_size"),
    (dict(batch_size=True), "batch_size"),
    (dict(window=0), "window"),
    (dict(window=1.5), "window"),
    (dict(seed=-1), "seed"),
    (dict(seed=None), "seed"),
    (dict(shuffle="yes"), "shuffle"),
    (dict(drop_last=None), "drop_last"),
])
def test_bad_arguments_are_one_line_errors_naming_them(dataset, options, name):
    with pytest.raises(ConfigError, match=name) as caught:
        dataset.batch_sampler(**options)
    assert "\n" not in str(caught.value) and isinstance(caught.value, ValueError)
    sampler = dataset.batch_sampler(8)
    for epoch in (-1, 1.0):
        with pytest.raises(ConfigError, match="epoch"):
            sampler.set_epoch(epoch)


@needs_proc
@pytest.mark.parametrize("reader", ["dataloader", "workers"])
def test_peak_memory_of_a_windowed_dataloader_epoch_does_not_grow(tmp_path_factory, reader):
    root = tmp_path_factory.getbasetemp() / "window_sampler_mapped"
    peaks = {}
    for episodes in (100, 800):  # 0.1M and 0.8M steps: 17 MB and 136 MB of data
        path = root / f"d{episodes}"
        if not (path / "metadata.json").exists():
            write_synthetic_mapped(path, episodes)
        peaks[episodes] = peak_of_an_epoch(path, reader=reader)
    # 119 MB more data: an epoch that kept its pages mapped would grow by about all of it
    # (a global permutation does); released window by window it does not grow (a few MB of
    # allocator noise and per-episode records allowed). With a worker process, the worker's
    # peak: it releases the windows it read.
    assert peaks[800] - peaks[100] < 16 << 20, peaks
