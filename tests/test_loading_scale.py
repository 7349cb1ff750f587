"""Loading at scale: DataLoader's batched fetch, memory-mapped datasets, memory that does not grow.

Throughput and absolute memory figures live in ``benchmarks/loading_scale.py``; these tests check
what a user relies on: the same items whichever path reads them, and memory that does not scale
with the dataset.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.torch_dataset import BaselineDataset, IRLDataset, SequenceDataset


def synthetic_arrays(episodes: int, seed: int = 0, *, discrete: bool = False,
                     obs_dim: int = 5, final: bool = True) -> DatasetArrays:
    """Episodes of varied length (1..9 steps) with random content."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 10, episodes).astype(np.int64)
    total = int(lengths.sum())
    last = np.cumsum(lengths) - 1
    terminated = np.zeros(total, dtype=bool)
    truncated = np.zeros(total, dtype=bool)
    ends = rng.random(episodes) < 0.5
    terminated[last[ends]] = True
    truncated[last[~ends]] = True
    actions = rng.integers(0, 3, total) if discrete else \
        rng.standard_normal((total, 2)).astype(np.float32)
    return DatasetArrays(
        obs=rng.standard_normal((total, obs_dim)).astype(np.float32), actions=actions,
        rewards=rng.standard_normal(total), terminated=terminated, truncated=truncated,
        lengths=lengths,
        final_obs=rng.standard_normal((episodes, obs_dim)).astype(np.float32) if final else None,
        seeds=np.arange(episodes, dtype=np.int64), attempts=np.ones(episodes, dtype=np.int64))


def stacked_items(dataset, indices) -> list[torch.Tensor]:
    """What the unbatched path gives: ``dataset[i]`` one by one, stacked field by field."""
    items = [dataset[int(i)] for i in indices]
    return [torch.stack([item[k] for item in items]) for k in range(len(items[0]))]


def assert_same(batch, expected) -> None:
    assert isinstance(batch, list) and len(batch) == len(expected)
    for got, want in zip(batch, expected):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert torch.equal(got, want)


DATASETS = {
    "box": lambda: BaselineDataset.from_arrays(synthetic_arrays(40)),
    "discrete": lambda: BaselineDataset.from_arrays(synthetic_arrays(40, discrete=True)),
    "original layout": lambda: BaselineDataset.from_arrays(synthetic_arrays(40, final=False)),
    "transform": lambda: BaselineDataset.from_arrays(synthetic_arrays(40),
                                                     transform=lambda x: x * 2),
    "irl": lambda: IRLDataset.from_arrays(synthetic_arrays(40, discrete=True)),
    "sequence": lambda: SequenceDataset.from_arrays(synthetic_arrays(40), sequence_length=4,
                                                    stride=2),
}


@pytest.mark.parametrize("kind", list(DATASETS))
def test_dataloader_batches_equal_stacked_items(kind):
    dataset = DATASETS[kind]()
    order = np.random.default_rng(1).permutation(len(dataset))
    loader = DataLoader(dataset, batch_size=7, sampler=order.tolist())
    seen = 0
    for batch in loader:
        assert_same(batch, stacked_items(dataset, order[seen:seen + len(batch[0])]))
        seen += len(batch[0])
    assert seen == len(dataset)


def test_dataloader_path_equals_batches_item_for_item():
    dataset = BaselineDataset.from_arrays(synthetic_arrays(60))
    loader = DataLoader(dataset, batch_size=16)
    ours = dataset.batches(16, shuffle=False)
    assert len(loader) == len(ours)
    for batch, gathered in zip(loader, ours):
        assert_same(batch, list(gathered))


def test_dataloader_uses_one_gather_per_batch(monkeypatch):
    dataset = BaselineDataset.from_arrays(synthetic_arrays(30))
    calls = {"item": 0, "gather": 0}
    item, gather = dataset.item, dataset.gather

    def count_item(index):
        calls["item"] += 1
        return item(index)

    def count_gather(index):
        calls["gather"] += 1
        return gather(index)

    monkeypatch.setattr(dataset, "item", count_item)
    monkeypatch.setattr(dataset, "gather", count_gather)
    batches = list(DataLoader(dataset, batch_size=10, shuffle=True,
                              generator=torch.Generator().manual_seed(0)))
    assert calls == {"item": 0, "gather": len(batches)}


def test_custom_collate_fn_sees_the_items():
    dataset = BaselineDataset.from_arrays(synthetic_arrays(20, discrete=True))
    batch = next(iter(DataLoader(dataset, batch_size=5, collate_fn=list)))
    assert len(batch) == 5
    for index, item in enumerate(batch):
        assert isinstance(item, tuple) and len(item) == 3
        for got, want in zip(item, dataset[index]):
            assert torch.equal(got, want)
    # items taken out of their batch still collate as tuples of tensors do
    assert_same(torch.utils.data.default_collate(batch), stacked_items(dataset, range(5)))


@pytest.mark.parametrize("final", [True, False])
def test_batched_indices_count_from_the_end_and_are_bounded(final):
    dataset = BaselineDataset.from_arrays(synthetic_arrays(30, final=final))
    n = len(dataset)
    mixed = [0, -1, 5, -n, n - 1]
    assert_same(list(dataset.gather(mixed)), stacked_items(dataset, [i % n for i in mixed]))
    assert_same(list(dataset[[-2, 3]]), stacked_items(dataset, [n - 2, 3]))
    for bad in ([n], [0, -n - 1], [2**62]):
        with pytest.raises(IndexError, match="out of range"):
            dataset.gather(bad)


def test_dataloader_with_worker_processes_gives_the_same_batches():
    dataset = BaselineDataset.from_arrays(synthetic_arrays(40))
    single = list(DataLoader(dataset, batch_size=9))
    workers = list(DataLoader(dataset, batch_size=9, num_workers=2))
    assert len(single) == len(workers)
    for a, b in zip(single, workers):
        assert_same(b, a)


# ------------------------------------------------------------------------------ mapped datasets
def write_dataset(directory, arrays: DatasetArrays, *, mapped: bool):
    from imitation_datasets.data.parquet import write_parquet

    return write_parquet(directory, arrays, synthetic_metadata(arrays), mapped=mapped)


def synthetic_metadata(arrays: DatasetArrays) -> dict:
    import gymnasium as gym

    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.data.schema import space_to_dict

    obs_space = gym.spaces.Box(0, 255, arrays.obs.shape[1:], np.uint8) \
        if arrays.obs.dtype == np.uint8 else \
        gym.spaces.Box(-np.inf, np.inf, arrays.obs.shape[1:], arrays.obs.dtype)
    act_space = gym.spaces.Discrete(3) if arrays.actions.ndim == 1 else \
        gym.spaces.Box(-np.inf, np.inf, arrays.actions.shape[1:], np.float32)
    return build_metadata(
        arrays, env={"id": "Synthetic-v0", "kwargs": {}, "spec": None,
                     "max_episode_steps": None, "observation_space": space_to_dict(obs_space),
                     "action_space": space_to_dict(act_space)},
        expert={"kind": "synthetic"}, collection={"dataset_seed": 0}, acceptance={},
        reference={}, creation={"command": "tests"})


@pytest.mark.parametrize("discrete", [False, True])
def test_mapped_dataset_loads_identically_to_the_parquet_one(tmp_path, discrete):
    from imitation_datasets.data.mapped import is_memory_mapped

    arrays = synthetic_arrays(50, discrete=discrete)
    single = BaselineDataset(write_dataset(tmp_path / "parquet", arrays, mapped=False))
    mapped = BaselineDataset(write_dataset(tmp_path / "mapped", arrays, mapped=True))
    assert is_memory_mapped(mapped.arrays.obs) and not is_memory_mapped(single.arrays.obs)
    assert mapped.arrays.equals(single.arrays) and mapped.metadata == single.metadata
    assert len(mapped) == len(single)
    for index in (0, 7, len(single) - 1):
        for got, want in zip(mapped[index], single[index]):
            assert torch.equal(got, want)
    for got, want in zip(mapped.batches(16, seed=2), single.batches(16, seed=2)):
        for a, b in zip(got, want):
            assert torch.equal(a, b)
    eval_split = BaselineDataset(tmp_path / "mapped", split="eval", n_episodes=20)
    assert eval_split.arrays.equals(single.arrays.select(range(20, 50)))
    # the column files are plain .npy files numpy reads without this library
    obs = np.load(tmp_path / "mapped" / "steps" / "obs.npy", mmap_mode="r", allow_pickle=False)
    assert np.array_equal(obs, arrays.obs)


def test_mapped_values_are_checked_when_read(tmp_path):
    from imitation_datasets.core.errors import DatasetFormatError

    arrays = synthetic_arrays(20)
    arrays.obs[13, 2] = np.nan
    path = write_dataset(tmp_path / "nan", arrays, mapped=True)
    dataset = BaselineDataset(path)  # loads without reading every value
    clean = [i for i in range(len(dataset)) if i not in (12, 13)]
    dataset.gather(clean)
    with pytest.raises(DatasetFormatError, match=r"obs row 13 holds NaN"):
        dataset[13]
    with pytest.raises(DatasetFormatError, match=r"obs row 13 holds NaN"):
        list(DataLoader(dataset, batch_size=8))
    assert torch.isnan(BaselineDataset(path, allow_nonfinite=True)[13][0]).any()


@pytest.mark.parametrize("damage", ["short", "object", "rows"])
def test_mapped_column_files_are_checked_against_their_headers(tmp_path, damage):
    from imitation_datasets.core.errors import DatasetFormatError

    arrays = synthetic_arrays(10)
    path = write_dataset(tmp_path / "d", arrays, mapped=True)
    column = path / "steps" / "obs.npy"
    if damage == "short":
        column.write_bytes(column.read_bytes()[:-4])
    elif damage == "object":
        np.save(column, np.array([None] * len(arrays.obs), dtype=object), allow_pickle=True)
    else:
        np.save(column, arrays.obs[:-1])
    with pytest.raises(DatasetFormatError, match="obs.npy"):
        BaselineDataset(path)


def test_mapped_writer_streams_episodes_into_the_same_bytes(tmp_path):
    from imitation_datasets.core.episode import Episode
    from imitation_datasets.data.mapped_writer import MappedWriter

    arrays = synthetic_arrays(30, discrete=True)
    whole = write_dataset(tmp_path / "whole", arrays, mapped=True)
    metadata = BaselineDataset(whole).metadata
    with MappedWriter(tmp_path / "streamed", arrays.n_steps) as writer:
        for start, length, e in zip(arrays.starts, arrays.lengths, range(arrays.n_episodes)):
            rows = slice(start, start + length)
            writer.add(Episode(arrays.obs[rows], arrays.actions[rows], arrays.rewards[rows],
                               arrays.final_obs[e], bool(arrays.terminated[rows][-1]),
                               bool(arrays.truncated[rows][-1]), seed=int(arrays.seeds[e]),
                               index=e, attempt=int(arrays.attempts[e]) - 1))
        writer.finish(metadata)
    files = sorted(p.relative_to(whole) for p in whole.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "streamed")
                           for p in (tmp_path / "streamed").rglob("*") if p.is_file())
    for name in files:
        assert (whole / name).read_bytes() == (tmp_path / "streamed" / name).read_bytes(), name


def test_windowed_batches_visit_every_transition_once_seeded():
    dataset = BaselineDataset.from_arrays(synthetic_arrays(400))
    n = len(dataset)
    first = [b[1].clone() for b in dataset.batches(50, seed=1, window=300)]
    again = [b[1].clone() for b in dataset.batches(50, seed=1, window=300)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    from imitation_datasets.data.batches import TransitionBatchSampler
    order = torch.cat(list(TransitionBatchSampler(n, 50, seed=1, window=300)))
    assert sorted(order.tolist()) == list(range(n))
    assert not torch.equal(order, torch.arange(n))
    assert torch.equal(torch.cat(first), dataset.gather(order)[1])
    ordered = torch.cat(list(TransitionBatchSampler(n, 64, shuffle=False, window=100)))
    assert torch.equal(ordered, torch.arange(n))
    assert len(list(TransitionBatchSampler(n, 64, drop_last=True, window=100))) == n // 64


# ------------------------------------------------------------------ memory does not scale
RSS_PRELUDE = r"""
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

open("/proc/self/clear_refs", "w").write("5")  # VmHWM := VmRSS
base = status("VmRSS")
"""
"""A child's peak-memory probe: ``status(key)`` in bytes, the peak reset to ``base`` now."""

PEAK_CHILD = r"""
import sys, torch
torch.set_num_threads(1)
from torch.utils.data import DataLoader, default_collate
from imitation_datasets.data.torch_dataset import BaselineDataset
""" + RSS_PRELUDE + r"""dataset = BaselineDataset(sys.argv[1])
window, reader = int(sys.argv[2]), sys.argv[3]
worker_base = None


def reset_worker_peak(_):
    global worker_base
    open("/proc/self/clear_refs", "w").write("5")
    worker_base = status("VmRSS")


def collate_with_worker_peak(batch):  # runs in the worker: its peak so far rides on the batch
    return default_collate(batch), status("VmHWM") - worker_base


if reader == "batches":
    epoch = dataset.batches(256, seed=0, window=window)
elif reader == "dataloader":
    epoch = DataLoader(dataset, batch_sampler=dataset.batch_sampler(256, seed=0, window=window))
else:  # "workers": one worker process reads the batches; its peak is reported
    epoch = DataLoader(dataset, batch_sampler=dataset.batch_sampler(256, seed=0, window=window),
                       num_workers=1, worker_init_fn=reset_worker_peak,
                       collate_fn=collate_with_worker_peak)
seen, peak = 0, 0
for batch in epoch:
    if reader == "workers":
        batch, worker_peak = batch
        peak = max(peak, worker_peak)
    seen += len(batch[0])
assert seen == len(dataset)
print(peak if reader == "workers" else status("VmHWM") - base)
"""


def write_synthetic_mapped(directory, episodes: int, steps: int = 1000, frames: bool = False):
    """A HalfCheetah-shaped mapped dataset (obs 17 float64, action 6 float32), streamed.

    With ``frames``, observations are random 64x64 RGB frames (stored as PNG, incompressible).
    """
    from imitation_datasets.core.episode import Episode
    from imitation_datasets.data.mapped_writer import MappedWriter

    rng = np.random.default_rng(0)

    def observations(count):
        if frames:
            return rng.integers(0, 256, (count, 64, 64, 3), dtype=np.uint8)
        return rng.standard_normal((count, 17))

    with MappedWriter(directory, episodes * steps) as writer:
        for e in range(episodes):
            writer.add(Episode(observations(steps),
                               rng.uniform(-1, 1, (steps, 6)).astype(np.float32),
                               rng.standard_normal(steps), observations(1)[0], False, True,
                               seed=e, index=e))
        writer.finish(synthetic_metadata)
    return directory


def peak_of_an_epoch(path, window: int = 1 << 15, reader: str = "batches") -> int:
    """Peak RSS (bytes above the interpreter) of loading ``path`` and one windowed epoch.

    ``reader``: ``"batches"`` (``dataset.batches``), ``"dataloader"`` (``DataLoader`` with
    ``dataset.batch_sampler``, ``num_workers=0``) or ``"workers"`` (the same with one worker
    process: the worker's peak above its RSS when it started).
    """
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PEAK_CHILD, str(path), str(window), reader],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1])


needs_proc = pytest.mark.skipif(not __import__("os").path.exists("/proc/self/clear_refs"),
                                reason="needs Linux /proc to read the peak resident size")


@needs_proc
def test_peak_memory_of_a_mapped_epoch_does_not_grow_with_the_dataset(tmp_path):
    peaks = {episodes: peak_of_an_epoch(write_synthetic_mapped(tmp_path / f"d{episodes}",
                                                               episodes))
             for episodes in (100, 800)}  # 0.1M and 0.8M steps: 17 MB and 136 MB of data
    # 119 MB more data; an in-memory load would grow by all of it, a mapped one not at all
    # (a few MB of allocator noise and per-episode records allowed)
    assert peaks[800] - peaks[100] < 16 << 20, peaks


@needs_proc
def test_an_image_dataset_is_read_lazily_with_bounded_memory(tmp_path):
    peaks = {}
    for episodes in (2, 8):  # 1,000 and 4,000 random 64x64 frames: 12 MB and 49 MB of PNG
        path = write_synthetic_mapped(tmp_path / f"f{episodes}", episodes, 500, frames=True)
        assert (path / "steps" / "obs.arrow").stat().st_size > episodes * 500 * 12_000
        peaks[episodes] = peak_of_an_epoch(path, window=500)
    # every frame is decoded once per epoch (twice: s and s'); reading the file or keeping the
    # decoded frames would grow by 37 MB or more
    assert peaks[8] - peaks[2] < 16 << 20, peaks



LOAD_CHILD = r"""
import sys
from imitation_datasets.data.torch_dataset import BaselineDataset
""" + RSS_PRELUDE + r"""dataset = BaselineDataset(sys.argv[1])
print(status("VmHWM") - base)
"""


@needs_proc
def test_opening_a_frame_file_does_not_map_it_whole(tmp_path):
    """Each record batch (one per episode) is opened without keeping its pages mapped."""
    import subprocess
    import sys

    peaks = {}
    for episodes in (40, 1200):  # 1,200 batches of random frames: 60 MB of PNG
        path = write_synthetic_mapped(tmp_path / f"e{episodes}", episodes, 4, frames=True)
        out = subprocess.run([sys.executable, "-c", LOAD_CHILD, str(path)], check=True,
                             capture_output=True, text=True).stdout
        peaks[episodes] = int(out.split()[-1])
    # the kernel maps 64 KiB around each batch header read (75 MB for 1,200 batches when the
    # pages stayed mapped); released as the batches are read, the peak does not grow
    assert peaks[1200] - peaks[40] < 16 << 20, peaks


# ------------------------------------------------------------------ collection writes mapped
def collect_mapped(path, workers: int, mapped: bool = True):
    from conftest import balance

    from imitation_datasets.collect.functions import DatasetCollate, baseline_enjoy
    from imitation_datasets.controller import Controller
    from imitation_datasets.experts import CallablePolicy

    expert = CallablePolicy(balance, "CartPole-v1", threshold=0.0, identity="balance-v1")
    controller = Controller(baseline_enjoy,
                            DatasetCollate("baseline_collate", npz=not mapped, mapped=mapped),
                            episodes=7, threads=workers, path=path, seed=5, expert=expert,
                            progress=False, command="tests")
    return controller.start({"game": "cp", "mode": "all"})


def test_collection_streams_a_mapped_dataset_identical_across_workers(tmp_path, monkeypatch):
    from imitation_datasets.collect.staging import Staging

    one = collect_mapped(tmp_path / "one", 1)
    # the mapped collate never reads the staging logs whole (episode_bytes holds every payload)
    monkeypatch.setattr(Staging, "episode_bytes", lambda *a: pytest.fail("read whole"))
    two = collect_mapped(tmp_path / "two", 2)
    files = sorted(str(p.relative_to(one)) for p in one.rglob("*") if p.is_file())
    assert "steps/obs.npy" in files and "steps.parquet" not in files
    assert files == sorted(str(p.relative_to(two)) for p in two.rglob("*") if p.is_file())
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    monkeypatch.undo()
    parquet = collect_mapped(tmp_path / "parquet", 2, mapped=False)
    mapped, stored = BaselineDataset(one), BaselineDataset(parquet)
    assert mapped.arrays.equals(stored.arrays) and mapped.metadata == stored.metadata
    before = (one / "metadata.json").stat().st_mtime_ns
    assert collect_mapped(tmp_path / "one", 1) == one  # found complete: nothing rewritten
    assert (one / "metadata.json").stat().st_mtime_ns == before


def test_mapped_collate_refuses_teacher_npz():
    from imitation_datasets.collect.functions import DatasetCollate

    with pytest.raises(ValueError, match="npz=False"):
        DatasetCollate("baseline_collate", mapped=True)


@pytest.mark.parametrize("final", [True, False])
def test_frame_stacks_stay_inside_their_episode(final):
    arrays = synthetic_arrays(30, final=final)
    stack = 3
    dataset = BaselineDataset.from_arrays(arrays, frame_stack=stack)
    single = BaselineDataset.from_arrays(arrays)
    # the obvious way: per episode, pad with the first observation (Gymnasium's "reset" padding)
    expected_s, expected_next = [], []
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths)):
        obs = arrays.obs[start:start + length]
        if final:
            obs = np.concatenate([obs, arrays.final_obs[e][None]])
        padded = np.concatenate([np.repeat(obs[:1], stack - 1, axis=0), obs])
        stacks = np.stack([padded[t:t + stack] for t in range(len(obs))])
        expected_s.append(stacks[:-1])
        expected_next.append(stacks[1:])
    expected_s, expected_next = np.concatenate(expected_s), np.concatenate(expected_next)
    assert len(dataset) == len(single) == len(expected_s)
    states, actions, following = dataset.gather(np.arange(len(dataset)))
    assert states.shape == (len(dataset), stack, 5)
    assert np.array_equal(states.numpy(), expected_s)
    assert np.array_equal(following.numpy(), expected_next)
    assert torch.equal(actions, single.gather(np.arange(len(single)))[1])
    for index in (0, 4, len(dataset) - 1):
        for got, want in zip(dataset[index], (expected_s[index], actions[index],
                                              expected_next[index])):
            assert np.array_equal(np.asarray(got), np.asarray(want))
    batch = next(iter(DataLoader(dataset, batch_size=len(dataset))))
    assert np.array_equal(batch[0].numpy(), expected_s)
