"""HuggingFace interop: the original hub layout (Parquet, JSONL, repo ids offline), round trips,
the paper's conversion functions, push_to_hub (up to the network call), bad input."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import make_dataset

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.npz import export_npz
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.data.sources import load_source
from imitation_datasets.dataset import (
    BaselineDataset,
    baseline_to_huggingface,
    from_hf_dataset,
    huggingface_to_baseline,
    push_to_hub,
    to_hf_dataset,
    write_hub_folder,
)

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("hub")
    return make_dataset(path, 10, random=True, name="rnd")


@pytest.fixture(scope="module")
def arrays(dataset):
    return read_parquet(dataset)[0]


def original_rows(arrays):
    """Rows exactly as the original ``convert_baseline_dataset_to_dict`` made them."""
    return [{"obs": arrays.obs[i].tolist(), "actions": arrays.actions[i].tolist(),
             "rewards": float(arrays.rewards[i]), "episode_starts": bool(arrays.episode_starts[i])}
            for i in range(arrays.n_steps)]


def write_original_jsonl(arrays, path):
    with open(path, "w", encoding="utf-8") as handle:
        for row in original_rows(arrays):
            handle.write(json.dumps(row) + "\n")
    return path


def check_original(data, arrays):
    """A dataset read from the original layout: values equal, last steps dropped."""
    assert data.num_episodes == arrays.n_episodes and not data.has_final_obs
    assert len(data) == arrays.n_steps - arrays.n_episodes
    np.testing.assert_array_equal(data.arrays.obs, arrays.obs)  # float32 values, exact in JSON
    np.testing.assert_array_equal(data.arrays.actions, arrays.actions)
    np.testing.assert_array_equal(data.episode_lengths, arrays.lengths)
    assert data.average_reward == pytest.approx(arrays.returns.mean())


# ------------------------------------------------------------------------------ original layout
def test_original_hub_layout_jsonl_and_parquet_files(arrays, tmp_path):
    jsonl = write_original_jsonl(arrays, tmp_path / "teacher.jsonl")
    check_original(BaselineDataset(jsonl), arrays)
    check_original(BaselineDataset(jsonl, source="hf"), arrays)
    table = pa.Table.from_pylist(original_rows(arrays))
    pq.write_table(table, tmp_path / "teacher.parquet")
    check_original(BaselineDataset(tmp_path / "teacher.parquet"), arrays)
    train = BaselineDataset(jsonl, n_episodes=6)
    evaluation = BaselineDataset(jsonl, n_episodes=6, split="eval")
    assert len(train) + len(evaluation) == arrays.n_steps - arrays.n_episodes


def test_hub_snapshot_folder_with_splits(arrays, tmp_path):
    folder = tmp_path / "snapshot"
    (folder / "data").mkdir(parents=True)
    write_original_jsonl(arrays.select(range(6)), folder / "data" / "train.jsonl")
    write_original_jsonl(arrays.select(range(6, 10)), folder / "data" / "test.jsonl")
    train = BaselineDataset(folder, source="hf")
    test = BaselineDataset(folder, source="hf", hf_split="test")
    assert train.num_episodes == 6 and test.num_episodes == 4
    np.testing.assert_array_equal(test.arrays.obs, arrays.select(range(6, 10)).obs)
    with pytest.raises(ValueError, match="hf_split='validation' not found"):
        BaselineDataset(folder, source="hf", hf_split="validation")


def test_datasets_object_in_the_original_layout(arrays):
    hf = datasets.Dataset.from_list(original_rows(arrays))
    converted = huggingface_to_baseline(hf)
    for key in ("obs", "actions", "rewards", "episode_starts", "episode_returns"):
        assert key in converted
    np.testing.assert_array_equal(converted["obs"], arrays.obs)
    np.testing.assert_array_equal(converted["episode_starts"], arrays.episode_starts)
    np.testing.assert_allclose(converted["episode_returns"], arrays.returns)
    with pytest.raises(TypeError, match="DatasetDict"):
        huggingface_to_baseline(datasets.DatasetDict({"train": hf}))


# ------------------------------------------------------------------------------ round trips
def test_round_trips_keep_every_array(dataset, arrays, tmp_path):
    via_npz = load_source(export_npz(arrays, tmp_path / "teacher.npz")).arrays
    assert via_npz.equals(arrays)
    hf = to_hf_dataset(dataset)
    back, metadata = from_hf_dataset(hf)
    assert back.equals(arrays) and metadata == read_parquet(dataset)[1]
    assert hf.features["obs"].length == 4 and len(hf) == arrays.n_steps
    hf.save_to_disk(str(tmp_path / "saved"))
    assert load_source(tmp_path / "saved").arrays.equals(arrays)
    folder = write_hub_folder(dataset, tmp_path / "folder")
    loaded = load_source(folder, source="hf")
    assert loaded.arrays.equals(arrays) and loaded.metadata == read_parquet(dataset)[1]
    # JSON lines beside our metadata.json come back with every dtype, seed and attempt.
    jsonl_dir = tmp_path / "jsonl"
    jsonl_dir.mkdir()
    baseline_to_huggingface(dataset, jsonl_dir / "teacher.jsonl")
    shutil.copy(dataset / "metadata.json", jsonl_dir)
    assert load_source(jsonl_dir / "teacher.jsonl").arrays.equals(arrays)
    single = baseline_to_huggingface(dataset / "teacher.npz", tmp_path / "steps.parquet")
    assert load_source(single).arrays.obs.dtype == np.float32


def test_split_exports_describe_only_their_episodes(dataset, arrays):
    evaluation = BaselineDataset(dataset, n_episodes=7, split="eval")
    back, metadata = from_hf_dataset(evaluation.to_hf_dataset())
    assert back.equals(arrays.select(range(7, 10)))
    assert metadata["episodes"]["count"] == 3 and metadata["selection"]["episodes"] == [7, 10]


def test_hub_folder_reads_with_datasets_alone(dataset, arrays, tmp_path):
    folder = write_hub_folder(dataset, tmp_path / "folder")
    assert (folder / "README.md").read_text().startswith("---\n")
    assert "\nconfigs:\n- config_name: default\n" in (folder / "README.md").read_text()
    steps = datasets.load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "cache"))
    assert len(steps) == arrays.n_steps
    assert {"obs", "actions", "rewards", "episode_starts"} <= set(steps.column_names)
    np.testing.assert_allclose(steps[3]["obs"], arrays.obs[3])


def test_baseline_to_huggingface_checks_paths(dataset, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        baseline_to_huggingface(tmp_path / "nothing.npz", tmp_path / "x.jsonl")
    with pytest.raises(ValueError, match="does not exist"):
        baseline_to_huggingface(dataset, tmp_path / "no" / "such" / "x.jsonl")


# ------------------------------------------------------------------------------ push_to_hub
def test_push_to_hub_uploads_a_folder_that_loads_back(dataset, arrays, tmp_path, monkeypatch):
    from huggingface_hub import HfApi

    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create"] = (repo_id, kwargs)

    def upload_folder(self, *, folder_path, repo_id, repo_type, **kwargs):
        calls["upload"] = (repo_id, repo_type)
        shutil.copytree(folder_path, tmp_path / repo_id.replace("/", "_"))
        return "commit-info"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert push_to_hub(dataset, "someone/cartpole-random") == "commit-info"
    assert calls["create"][0] == "someone/cartpole-random"
    assert calls["create"][1]["repo_type"] == "dataset"
    assert calls["upload"] == ("someone/cartpole-random", "dataset")
    uploaded = tmp_path / "someone_cartpole-random"
    assert sorted(p.name for p in uploaded.iterdir()) == ["README.md", "data", "metadata.json"]
    assert BaselineDataset(uploaded, source="hf").arrays.equals(arrays)
    BaselineDataset(dataset, n_episodes=4).push_to_hub("someone/four")
    four = BaselineDataset(tmp_path / "someone_four", source="hf")
    assert four.arrays.equals(arrays.select(range(4)))


# ------------------------------------------------------------------------------ repo ids offline
def fake_hub_cache(cache, repo_id, files):
    """A HuggingFace hub cache holding one snapshot of a dataset repo, as a download leaves it:
    every snapshot file is a relative symlink into the repo's ``blobs`` (named by content)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / f"datasets--{repo_id.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(commit)
    (root / "blobs").mkdir()
    for name, source in files.items():
        sources = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() \
            else [source]
        for path in sources:
            target = snapshot / name / path.relative_to(source) if source.is_dir() \
                else snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            blob = root / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
            shutil.copy(path, blob)
            target.symlink_to(os.path.relpath(blob, target.parent))
    return snapshot


OFFLINE = textwrap.dedent("""
    import json, sys
    from imitation_datasets.dataset import BaselineDataset
    from imitation_datasets.core.errors import DatasetFormatError
    out = {}
    for repo in sys.argv[1:]:
        try:
            data = BaselineDataset(repo, source="huggingface", n_episodes=4)
            out[repo] = {"origin": data.origin, "transitions": len(data),
                         "episodes": data.num_episodes, "final": data.has_final_obs,
                         "seeds": data.episode_seeds.tolist(),
                         "first": data[0][0].tolist(), "dtype": str(data.states.dtype)}
        except DatasetFormatError as exc:
            out[repo] = {"error": str(exc)}
    print(json.dumps(out))
""")


def test_repo_ids_load_offline_from_the_local_hub_cache(dataset, arrays, tmp_path):
    cache = tmp_path / "hf" / "hub"
    write_original_jsonl(arrays, tmp_path / "teacher.jsonl")
    fake_hub_cache(cache, "someone/CartPole-v1", {"teacher.jsonl": tmp_path / "teacher.jsonl"})
    folder = write_hub_folder(dataset, tmp_path / "ours")
    fake_hub_cache(cache, "someone/ours", {"data": folder / "data",
                                           "metadata.json": folder / "metadata.json",
                                           "README.md": folder / "README.md"})
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(cache),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE, "someone/CartPole-v1", "someone/ours", "someone/missing"],
        env=env, capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    original, ours = out["someone/CartPole-v1"], out["someone/ours"]
    rows = int(arrays.lengths[:4].sum())
    assert original["origin"] == "hf://datasets/someone/CartPole-v1"
    assert original["transitions"] == rows - 4 and not original["final"]
    assert original["first"] == arrays.obs[0].tolist() and original["dtype"] == "torch.float64"
    assert ours["transitions"] == rows and ours["final"]
    assert ours["seeds"] == arrays.seeds[:4].tolist() and ours["dtype"] == "torch.float32"
    assert "someone/missing" in out["someone/missing"]["error"]
    assert "Offline" in out["someone/missing"]["error"]


def test_repo_id_falls_back_to_datasets(arrays, monkeypatch):
    import huggingface_hub

    def offline(*args, **kwargs):
        raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")

    seen = {}

    def load_dataset(path, split, revision=None):
        seen["args"] = (path, split)
        return datasets.Dataset.from_list(original_rows(arrays))

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    data = BaselineDataset("someone/elsewhere", source="hf", hf_split="train")
    assert seen["args"] == ("someone/elsewhere", "train")
    assert len(data) == arrays.n_steps - arrays.n_episodes


# ------------------------------------------------------------------------------ bad input
def test_bad_hf_inputs_are_refused(arrays, tmp_path):
    rows = original_rows(arrays)
    no_actions = datasets.Dataset.from_list([{k: v for k, v in r.items() if k != "actions"}
                                             for r in rows])
    with pytest.raises(DatasetFormatError, match=r"missing column\(s\) \['actions'\]"):
        from_hf_dataset(no_actions, origin="someone/x")
    ragged = datasets.Dataset.from_list([rows[0], {**rows[1], "obs": [1.0]}])
    with pytest.raises(DatasetFormatError, match="ragged observations"):
        huggingface_to_baseline(ragged)
    strings = datasets.Dataset.from_list([{**r, "rewards": "x"} for r in rows[:3]])
    with pytest.raises(DatasetFormatError, match="not numbers"):
        huggingface_to_baseline(strings)
    write_original_jsonl(arrays, tmp_path / "t.jsonl")
    data = (tmp_path / "t.jsonl").read_bytes()
    (tmp_path / "t.jsonl").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match=r"t\.jsonl"):
        BaselineDataset(tmp_path / "t.jsonl")
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "t.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match=r"t\.parquet: corrupt"):
        BaselineDataset(tmp_path / "t.parquet")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetFormatError, match="no dataset found"):
        BaselineDataset(empty)
