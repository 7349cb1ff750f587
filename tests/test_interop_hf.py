"""Our datasets in the tools people already use, with the real clients (dev dependencies):
HuggingFace ``datasets`` (numpy/torch formatting, DataLoader, load_dataset(dir, config), the
card), pandas, polars and DuckDB reading the Parquet files."""

import json

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.dataset_card import size_category
from imitation_datasets.data.hub_layout import hub_table
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.data.sources import load_source
from imitation_datasets.dataset import BaselineDataset, to_hf_dataset, write_hub_folder

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def arrays(random_cartpole):
    return read_parquet(random_cartpole)[0]


def next_obs(arrays):
    out = np.concatenate([arrays.obs[1:], arrays.obs[:1]])
    out[arrays.starts + arrays.lengths - 1] = arrays.final_obs
    return out


# ------------------------------------------------------------------ HF numpy/torch formatting
@pytest.mark.parametrize("kind", ["dataset", "hub folder", "pushed folder via load_dataset"])
def test_hf_numpy_and_torch_formats_batch_every_column(random_cartpole, arrays, tmp_path, kind):
    if kind == "dataset":
        hf = to_hf_dataset(random_cartpole)
    else:
        folder = write_hub_folder(random_cartpole, tmp_path / "hub")
        hf = datasets.load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "cache"))
    whole = hf.with_format("numpy")[:]
    assert whole["obs"].shape == whole["next_obs"].shape == (arrays.n_steps, 4)
    np.testing.assert_array_equal(whole["obs"], arrays.obs)
    np.testing.assert_array_equal(whole["next_obs"], next_obs(arrays))
    np.testing.assert_array_equal(whole["actions"], arrays.actions)
    np.testing.assert_array_equal(whole["terminated"], arrays.terminated)
    tensors = hf.with_format("torch")[:]
    assert tensors["rewards"].dtype == torch.float32  # HF's formatter casts float64 down...
    exact = hf.with_format("torch", dtype=None)[:]
    assert exact["rewards"].dtype == torch.float64  # ...unless dtype=None
    np.testing.assert_array_equal(exact["rewards"].numpy(), arrays.rewards)
    loader = torch.utils.data.DataLoader(hf.with_format("torch"), batch_size=16)
    batch = next(iter(loader))
    assert batch["obs"].shape == batch["next_obs"].shape == (16, 4)
    assert batch["actions"].shape == (16,) and batch["terminated"].dtype == torch.bool


def test_next_obs_round_trips_and_old_final_obs_files_still_read(random_cartpole, arrays, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = hub_table(arrays)
    assert "final_obs" not in table.column_names
    pq.write_table(table, tmp_path / "steps.parquet")
    back = load_source(tmp_path / "steps.parquet").arrays
    np.testing.assert_array_equal(back.final_obs, arrays.final_obs)
    # the layout written before next_obs: final_obs only on each episode's last row
    last = arrays.starts + arrays.lengths - 1
    rows = [None] * arrays.n_steps
    for e, row in enumerate(last):
        rows[row] = arrays.final_obs[e].tolist()
    old = table.drop_columns(["next_obs"]).append_column(
        "final_obs", pa.array(rows, type=pa.list_(pa.float32())))
    pq.write_table(old, tmp_path / "old.parquet")
    np.testing.assert_array_equal(load_source(tmp_path / "old.parquet").arrays.final_obs,
                                  arrays.final_obs)


def test_a_next_obs_that_does_not_continue_obs_is_refused(arrays, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = hub_table(arrays)
    broken = next_obs(arrays)
    broken[2] += 1
    index = table.column_names.index("next_obs")
    flat = pa.array(broken.reshape(-1))
    table = table.set_column(index, "next_obs", pa.FixedSizeListArray.from_arrays(flat, 4))
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(DatasetFormatError, match="next_obs of row 2 is not the obs of row 3"):
        load_source(tmp_path / "bad.parquet")


# ------------------------------------------------------------------ dataset card + configs
def test_every_dataset_folder_loads_by_config_with_datasets_alone(random_cartpole, arrays,
                                                                  tmp_path):
    cache, folder = str(tmp_path / "cache"), str(random_cartpole)
    steps = datasets.load_dataset(folder, "steps", split="train", cache_dir=cache)
    episodes = datasets.load_dataset(folder, "episodes", split="train", cache_dir=cache)
    default = datasets.load_dataset(folder, split="train", cache_dir=cache)
    assert len(steps) == len(default) == arrays.n_steps and len(episodes) == arrays.n_episodes
    np.testing.assert_array_equal(steps.with_format("numpy")[:]["obs"], arrays.obs)
    np.testing.assert_array_equal(episodes.with_format("numpy", dtype=None)[:]["return"],
                                  arrays.returns)


def test_the_card_holds_what_the_hub_shows(random_cartpole, arrays):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(random_cartpole / "README.md")
    data = card.data.to_dict()
    assert data["configs"] == [
        {"config_name": "steps", "data_files": [{"split": "train", "path": "steps.parquet"}],
         "default": True},
        {"config_name": "episodes",
         "data_files": [{"split": "train", "path": "episodes.parquet"}]}]
    assert data["license"] == "mit" and data["task_categories"] == ["reinforcement-learning"]
    assert {"imitation-learning", "CartPole-v1"} <= set(data["tags"])
    assert data["size_categories"] == [size_category(arrays.n_steps)]
    metadata = json.loads((random_cartpole / "metadata.json").read_text())
    assert f"| episodes | {arrays.n_episodes} |" in card.text
    assert metadata["creation"]["command"] in card.text
    assert size_category(999) == "n<1K" and size_category(1_500_000) == "1M<n<10M"


def test_the_card_is_the_same_bytes_whatever_is_installed(random_cartpole, tmp_path):
    """The card is written with PyYAML, so a folder is byte-identical without huggingface_hub."""
    from imitation_datasets.data.dataset_card import folder_card

    metadata = json.loads((random_cartpole / "metadata.json").read_text())
    assert (random_cartpole / "README.md").read_text() == folder_card(metadata)


# ------------------------------------------------------------------ tabular clients
def test_pandas_polars_and_duckdb_read_the_parquet_files(random_cartpole, arrays):
    steps = str(random_cartpole / "steps.parquet")
    frame = pd.read_parquet(steps)
    assert len(frame) == arrays.n_steps
    np.testing.assert_array_equal(np.stack(frame["obs"].to_numpy()), arrays.obs)
    polars = pl.read_parquet(steps)
    np.testing.assert_array_equal(polars["obs"].to_numpy(), arrays.obs)
    assert polars["action"].dtype == pl.Int64
    episodes = pl.read_parquet(str(random_cartpole / "episodes.parquet"))
    np.testing.assert_array_equal(episodes["final_obs"].to_numpy(), arrays.final_obs)
    sums = duckdb.sql(f"select sum(reward) from '{steps}' group by episode_index "
                      "order by episode_index").fetchall()
    # SQL sums in its own order: equal to the stored float64 returns up to the last bits
    np.testing.assert_allclose([s for (s,) in sums], arrays.returns, rtol=1e-12, atol=0)
    lengths = duckdb.sql(f"select count(*) from '{steps}' group by episode_index "
                         "order by episode_index").fetchall()
    assert [n for (n,) in lengths] == arrays.lengths.tolist()


def test_baseline_dataset_reads_a_split_written_as_a_hub_folder(random_cartpole, tmp_path):
    evaluation = BaselineDataset(random_cartpole, n_episodes=4, split="eval")
    folder = write_hub_folder(evaluation.loaded(), tmp_path / "eval")
    back = BaselineDataset(folder)
    assert back.num_episodes == 2 and len(back) == len(evaluation)
