"""A pixel dataset exported as a hub folder: sharded Parquet that HF ``datasets`` decodes alone.

Our store keeps frames in a memory-mappable Arrow IPC file (``steps/obs.arrow``); the export
(``il-datasets export hf``) writes the hub's format, Parquet shards whose ``obs`` and
``final_obs`` columns carry HuggingFace's ``Image`` feature. The frames' PNG bytes are copied,
not re-encoded, so our reader gets back the same bytes.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

pytest.importorskip("pygame")
datasets = pytest.importorskip("datasets")
from PIL import Image  # noqa: E402
from test_pixels import collect  # noqa: E402

from imitation_datasets.cli import main  # noqa: E402
from imitation_datasets.data.hub_folder import HubLayout  # noqa: E402
from imitation_datasets.data.sources import as_loaded  # noqa: E402
from imitation_datasets.data.torch_dataset import BaselineDataset  # noqa: E402


@pytest.fixture(scope="module")
def pixels(tmp_path_factory) -> Path:
    """Three CartPole episodes of 48x64 frames (states kept alongside, as --keep-states)."""
    return collect(tmp_path_factory.mktemp("pixels") / "cp", "cartpole", 1, episodes=3)


@pytest.fixture(scope="module")
def exported(pixels, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "hub"
    assert main(["export", "hf", str(pixels), "--out", str(out)]) == 0
    return out


def hf_rows(folder: Path, cache: Path):
    """The folder's Parquet files read by ``datasets`` alone (offline, local files)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    files = sorted(str(p) for p in (folder / "data").glob("*.parquet"))
    return datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(cache))


def test_hf_datasets_decodes_the_exported_frames_as_images(pixels, exported, tmp_path):
    source = as_loaded(pixels).arrays
    assert [p.name for p in (exported / "data").iterdir()] == ["train-00000-of-00001.parquet"]
    rows = hf_rows(exported, tmp_path)
    assert isinstance(rows.features["obs"], datasets.Image)
    assert isinstance(rows.features["final_obs"], datasets.Image)
    assert len(rows) == source.n_steps
    for row in (0, 7, source.n_steps - 1):
        image = rows[row]["obs"]
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image), source.obs[row])
    ends = source.starts + source.lengths - 1
    finals = rows.select_columns("final_obs")
    for row in range(source.n_steps):  # the final frame on each episode's last row only
        value = finals[row]["final_obs"]
        if row in ends:
            episode = int(np.flatnonzero(ends == row)[0])
            assert np.array_equal(np.asarray(value), source.final_obs[episode])
        else:
            assert value is None


def test_our_reader_gets_the_same_frames_back_byte_for_byte(pixels, exported):
    ours, back = BaselineDataset(pixels), BaselineDataset(exported)
    source, read = ours.arrays, back.arrays
    assert len(read.obs) == len(source.obs)
    assert all(read.obs.raw(i) == source.obs.raw(i) for i in range(len(source.obs)))
    assert np.array_equal(read.final_obs, source.final_obs)
    for key in ("actions", "rewards", "terminated", "truncated", "lengths", "seeds", "attempts"):
        assert np.array_equal(getattr(read, key), getattr(source, key)), key
    assert back.metadata == ours.metadata
    assert len(back) == len(ours)  # every transition, the episodes' last ones included
    for index in (0, len(ours) - 1):
        for got, want in zip(back[index], ours[index]):
            assert torch.equal(got, want)


def test_sharded_frames_load_identically_to_one_shard(pixels, exported, tmp_path):
    sharded = HubLayout().write_folder(as_loaded(pixels), tmp_path / "sharded",
                                       shard_bytes=100_000)
    shards = sorted((sharded / "data").iterdir())
    assert len(shards) > 2
    assert [p.name for p in shards] == [f"train-{i:05d}-of-{len(shards):05d}.parquet"
                                        for i in range(len(shards))]
    sizes = [pq.read_metadata(p).num_rows for p in shards]
    assert max(sizes) - min(sizes) <= 1  # the rows split evenly
    one, many = BaselineDataset(exported).arrays, BaselineDataset(sharded).arrays
    assert all(one.obs.raw(i) == many.obs.raw(i) for i in range(len(one.obs)))
    assert np.array_equal(one.final_obs, many.final_obs)
    assert np.array_equal(one.actions, many.actions)
    first, second = hf_rows(exported, tmp_path / "a"), hf_rows(sharded, tmp_path / "b")
    assert len(first) == len(second)
    raw_one = first.with_format("arrow")[:]
    raw_many = second.with_format("arrow")[:]
    assert raw_one.equals(raw_many)


def test_hf_dataset_of_frames_has_image_columns_and_round_trips(pixels):
    from imitation_datasets.data.hf_datasets import from_hf_dataset, to_hf_dataset

    loaded = as_loaded(pixels)
    dataset = to_hf_dataset(loaded)
    assert isinstance(dataset.features["obs"], datasets.Image)
    raw = dataset.with_format("arrow")[2]["obs"][0]["bytes"].as_py()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(raw))), loaded.arrays.obs[2])
    arrays, metadata = from_hf_dataset(dataset)
    assert metadata == loaded.metadata
    assert all(arrays.obs.raw(i) == loaded.arrays.obs.raw(i) for i in range(len(arrays.obs)))
    assert np.array_equal(arrays.final_obs, loaded.arrays.final_obs)


def test_a_final_frame_off_an_episode_end_is_refused(pixels, exported, tmp_path):
    import pyarrow as pa

    from imitation_datasets.core.errors import DatasetFormatError

    path = exported / "data" / "train-00000-of-00001.parquet"
    table = pq.read_table(path)
    final = table.column("final_obs").combine_chunks()
    moved = pa.concat_arrays([final.slice(1), final.slice(0, 1)])  # each one row earlier
    damaged = tmp_path / "damaged"
    (damaged / "data").mkdir(parents=True)
    (damaged / "metadata.json").write_bytes((exported / "metadata.json").read_bytes())
    pq.write_table(table.set_column(table.schema.get_field_index("final_obs"), "final_obs",
                                    moved), damaged / "data" / path.name)
    with pytest.raises(DatasetFormatError, match="final_obs must be set on exactly the last"):
        BaselineDataset(damaged)


def test_final_frames_past_the_decoded_size_limit_are_refused(pixels, exported, monkeypatch):
    from imitation_datasets.core.errors import DatasetFormatError
    from imitation_datasets.data import hub_layout

    monkeypatch.setattr(hub_layout, "MAX_FINAL_FRAME_BYTES", 2 * 48 * 64 * 3)  # 2 of 3 frames
    with pytest.raises(DatasetFormatError, match="3 final frames .*MAX_FINAL_FRAME_BYTES"):
        BaselineDataset(exported)
    monkeypatch.setattr(hub_layout, "MAX_FINAL_FRAME_BYTES", 3 * 48 * 64 * 3)
    assert len(BaselineDataset(exported)) == len(BaselineDataset(pixels))
