"""Exports stream: the hub layout a bounded batch at a time, the same rows whatever the batching.

A HuggingFace ``Dataset``, a hub folder's Parquet shards and a Minari dataset are written from
a memory-mapped dataset without holding it in memory: peak memory does not grow with the
dataset (complexity, not wall time; figures at 20M steps in ``benchmarks/loading_compare.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_loading_scale import (
    RSS_PRELUDE,
    needs_proc,
    synthetic_arrays,
    synthetic_metadata,
    write_synthetic_mapped,
)

from imitation_datasets.data.arrow import flat_array, nested_array, step_numbers
from imitation_datasets.data.hub_folder import HubLayout
from imitation_datasets.data.hub_layout import (
    hub_batches,
    hub_table,
    next_observations,
    write_hub_parquet,
    write_hub_shards,
)
from imitation_datasets.data.loaded import LoadedData


def whole_array_table(arrays) -> pa.Table:
    """The hub layout as it was built before exports streamed: every column from whole arrays."""
    columns = {
        "obs": nested_array(arrays.obs), "actions": nested_array(arrays.actions),
        "rewards": flat_array(arrays.rewards.astype(np.float64)),
        "episode_starts": flat_array(arrays.episode_starts),
        "terminated": flat_array(arrays.terminated), "truncated": flat_array(arrays.truncated),
        "episode_index": flat_array(arrays.episode_index.astype(np.int32)),
        "step": flat_array(step_numbers(arrays.lengths)),
    }
    following = next_observations(arrays)
    if following is not None:
        columns["next_obs"] = nested_array(following)
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


ARRAYS = {
    "box": lambda: synthetic_arrays(60),
    "discrete": lambda: synthetic_arrays(60, discrete=True),
    "original layout": lambda: synthetic_arrays(60, final=False),
    "one episode": lambda: synthetic_arrays(1),
}


@pytest.mark.parametrize("kind", list(ARRAYS))
@pytest.mark.parametrize("batch_bytes", [1, 97, 1000, 1 << 30])
def test_batched_rows_are_the_whole_array_table(kind, batch_bytes):
    arrays = ARRAYS[kind]()
    expected = whole_array_table(arrays)
    batches = list(hub_batches(arrays, batch_bytes=batch_bytes))
    if batch_bytes == 1:
        assert len(batches) == arrays.n_steps  # one row each: episodes cut anywhere
    got = pa.Table.from_batches(batches)
    assert got.schema.equals(expected.schema, check_metadata=True)
    assert got.equals(expected)
    assert hub_table(arrays).equals(expected)


def test_a_row_range_is_the_same_rows_of_the_table():
    arrays = synthetic_arrays(40)
    expected = whole_array_table(arrays)
    part = pa.Table.from_batches(list(hub_batches(arrays, 17, 123, batch_bytes=500)))
    assert part.equals(expected.slice(17, 106))


def test_shards_hold_the_single_file_rows_in_order(tmp_path):
    arrays = synthetic_arrays(80)
    single = write_hub_parquet(arrays, tmp_path / "one.parquet")
    paths = write_hub_shards(arrays, tmp_path / "data", "train", shard_bytes=2000)
    assert [p.name for p in paths] == [f"train-{i:05d}-of-{len(paths):05d}.parquet"
                                       for i in range(len(paths))]
    assert len(paths) > 3
    sharded = pa.concat_tables([pq.read_table(p) for p in paths])
    assert sharded.equals(pq.read_table(single))
    assert sharded.equals(whole_array_table(arrays))


def test_a_sharded_hub_folder_loads_identically_to_a_single_file_one(tmp_path):
    arrays = synthetic_arrays(80)
    data = LoadedData(arrays, synthetic_metadata(arrays), "tests")
    one = HubLayout().write_folder(data, tmp_path / "one")
    many = HubLayout().write_folder(data, tmp_path / "many", shard_bytes=3000)
    assert [p.name for p in (one / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    assert len(list((many / "data").iterdir())) > 1
    first, second = HubLayout().read(one), HubLayout().read(many)
    assert first.arrays.equals(arrays) and second.arrays.equals(arrays)
    assert first.metadata == second.metadata


def test_a_rewrite_leaves_only_the_new_shards(tmp_path):
    arrays = synthetic_arrays(80)
    data = LoadedData(arrays, synthetic_metadata(arrays), "tests")
    folder = HubLayout().write_folder(data, tmp_path / "hub", shard_bytes=3000)
    (folder / "data" / "test-00000-of-00001.parquet").write_bytes(b"another split's")
    HubLayout().write_folder(data, folder)  # one shard now: the earlier ones would duplicate rows
    assert sorted(p.name for p in (folder / "data").iterdir()) == [
        "test-00000-of-00001.parquet", "train-00000-of-00001.parquet"]
    assert HubLayout().read(folder).arrays.equals(arrays)


def test_hf_dataset_is_memory_mapped_and_holds_the_table(tmp_path):
    datasets = pytest.importorskip("datasets")
    from imitation_datasets.data.hf_datasets import HFDatasets, from_hf_dataset, to_hf_dataset

    arrays = synthetic_arrays(50)
    data = LoadedData(arrays, synthetic_metadata(arrays), "tests")
    dataset = to_hf_dataset(data, cache_dir=tmp_path / "cache")
    assert not dataset._data.__class__.__name__.startswith("InMemory")
    assert [f["filename"] for f in dataset.cache_files] == [
        str(p) for p in (tmp_path / "cache").iterdir()]
    assert dataset.with_format("arrow")[:].equals(whole_array_table(arrays))
    assert from_hf_dataset(dataset)[0].equals(arrays)
    saved = HFDatasets().write(data, tmp_path / "saved")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "saved"]  # no temporary left
    assert datasets.load_from_disk(str(saved)).with_format("arrow")[:].equals(
        whole_array_table(arrays))



EXPORT_CHILD = r"""
import os, sys
kind, source, out = sys.argv[1], sys.argv[2], sys.argv[3]
from imitation_datasets.data.sources import as_loaded
if kind == "hub":
    from imitation_datasets.data.hub_folder import HubLayout
elif kind == "hf":
    import datasets
    from imitation_datasets.data.hf_datasets import to_hf_dataset
else:
    import minari
    from imitation_datasets.data.minari_export import to_minari
""" + RSS_PRELUDE + r"""data = as_loaded(source)
if kind == "hub":
    HubLayout().write_folder(data, out, shard_bytes=40 << 20)
elif kind == "hf":
    dataset = to_hf_dataset(data, cache_dir=out)
    assert len(dataset) == data.arrays.n_steps
else:
    to_minari(data, "tests/synthetic/export-v0", data_format="arrow")
print(status("VmHWM") - base)
"""


@needs_proc
@pytest.mark.parametrize("kind", ["hub", "hf", "minari"])
def test_peak_memory_of_an_export_does_not_grow_with_the_dataset(tmp_path, kind):
    if kind != "hub":
        pytest.importorskip("datasets" if kind == "hf" else "minari")
    # 0.1M and 0.8M HalfCheetah-shaped steps (23 MB and 187 MB). Minari's own arrow storage:
    # its hdf5 storage adds HDF5's metadata cache, which fills up to ~20 MB over the first few
    # hundred episodes and then stays (57 MiB anonymous in all at 20M steps, loading_compare.py)
    shapes = {"hub": ((100, 1000), (800, 1000)), "hf": ((100, 1000), (800, 1000)),
              "minari": ((20, 5000), (160, 5000))}[kind]
    peaks = []
    for episodes, steps in shapes:
        source = write_synthetic_mapped(tmp_path / f"d{episodes}", episodes, steps)
        out = tmp_path / f"out{episodes}"
        out.mkdir()
        env = {**os.environ, "MINARI_DATASETS_PATH": str(out)}
        done = subprocess.run([sys.executable, "-c", EXPORT_CHILD, kind, str(source), str(out)],
                              check=True, capture_output=True, text=True, env=env).stdout
        peaks.append(int(done.split()[-1]))
    # 164 MB more data (obs, actions, rewards and next_obs): a table built in memory grows by
    # all of it; streamed, one batch of 32 MB (one episode for Minari) is held at a time
    assert peaks[1] - peaks[0] < 16 << 20, peaks
