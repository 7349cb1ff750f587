"""The storage seam: one protocol, one registry; every backend writes what it reads back."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from conftest import make_dataset

from imitation_datasets.core.names import UnknownNameError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.metadata import REQUIRED_KEYS, build_metadata
from imitation_datasets.data.minari_io import METADATA_KEY
from imitation_datasets.data.schema import infer_spaces, space_from_dict
from imitation_datasets.data.sources import load_source
from imitation_datasets.data.storage import BACKENDS, backend
from imitation_datasets.dataset import BaselineDataset, to_minari, write_hub_folder


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> LoadedData:
    return load_source(make_dataset(tmp_path_factory.mktemp("storage"), 5))


@pytest.fixture
def minari_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    pytest.importorskip("minari")


@pytest.mark.parametrize(("name", "location"), [
    ("parquet", "copy"), ("npz", "teacher.npz"), ("hub", "hub-folder"), ("hf", "saved"),
    ("minari", "il-datasets/storage/test-v0"),
])
def test_every_backend_reads_back_exactly_what_it_wrote(loaded, tmp_path, minari_home, name,
                                                        location):
    target = location if name == "minari" else tmp_path / location
    backend(name).write(loaded, target)
    again = load_source(target, source="minari" if name == "minari" else "local")
    assert content_fingerprint(again.arrays) == content_fingerprint(loaded.arrays)
    if name != "npz":  # a teacher.npz holds arrays only; its metadata is the folder's
        assert again.metadata["episodes"] == loaded.metadata["episodes"]


def test_one_hub_file_keeps_the_steps(loaded, tmp_path):
    for suffix in (".parquet", ".jsonl"):
        path = backend("hub").write(loaded, tmp_path / f"steps{suffix}")
        again = load_source(path).arrays
        for field in ("obs", "rewards", "terminated", "truncated", "lengths", "final_obs"):
            np.testing.assert_array_equal(getattr(again, field), getattr(loaded.arrays, field))


def test_the_registry_names_every_backend_and_suggests_the_closest():
    assert set(BACKENDS) == {"parquet", "npz", "hub", "hf", "minari"}
    assert all(b.name == name for name, b in BACKENDS.items())
    with pytest.raises(UnknownNameError, match="closest: parquet"):
        backend("parquett")


def test_the_dataset_api_imports_no_optional_library():
    code = ("import sys, imitation_datasets.dataset; print(sorted(m for m in ('datasets', "
            "'minari', 'huggingface_hub', 'h5py') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _arrays(obs: np.ndarray, actions: np.ndarray) -> DatasetArrays:
    total = len(obs)
    truncated = np.zeros(total, dtype=bool)
    truncated[[1, total - 1]] = True
    return DatasetArrays(obs=obs, actions=actions, rewards=np.array([1.0, 2.0, 0.5, -1.0]),
                         terminated=np.zeros(total, dtype=bool), truncated=truncated,
                         lengths=np.array([2, 2]), final_obs=obs[[1, 3]],
                         seeds=np.array([7, 8]), attempts=np.array([1, 3]))


def test_metadata_json_is_built_from_typed_records_with_fixed_keys_and_values():
    arrays = _arrays(np.zeros((4, 3), np.float32), np.array([0, 1, 1, 0]))
    metadata = build_metadata(arrays, env={"id": None}, expert={"kind": "unknown"},
                              collection={}, acceptance={}, reference={},
                              creation={"command": "test"})
    assert tuple(metadata) == REQUIRED_KEYS
    assert metadata["episodes"] == {"count": 2, "seed": [7, 8], "return": [3.0, -0.5],
                                    "length": [2, 2], "attempts": [1, 3], "terminated": 0,
                                    "truncated": 2}
    assert metadata["returns"] == {"mean": 1.25, "std": 1.75, "min": -0.5, "max": 3.0}
    assert metadata["total_steps"] == 4
    assert set(metadata["versions"]) >= {"python", "numpy", "gymnasium", "pyarrow"}
    json.dumps(metadata, allow_nan=False)


def test_inferred_spaces_hold_the_data_and_read_back_without_warnings():
    images = _arrays(np.zeros((4, 2, 2, 3), np.uint8), np.array([-1, 0, 2, 0]))
    obs, act = infer_spaces(images.obs, images.actions)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs_space, act_space = space_from_dict(obs), space_from_dict(act)
    assert obs_space == gym.spaces.Box(0, 255, (2, 2, 3), np.uint8)
    assert act_space == gym.spaces.Discrete(4, start=-1)
    counts = _arrays(np.zeros((4, 2), np.int64), np.zeros((4, 2), np.int64))
    obs, act = infer_spaces(counts.obs, counts.actions)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        box = space_from_dict(act)
    assert box.dtype == np.int64 and box.contains(np.array([5, -5]))
    assert obs["low"] == [-(1 << 53)] * 2


def test_a_dataset_without_metadata_gets_the_inferred_spaces(tmp_path):
    arrays = _arrays(np.arange(8, dtype=np.float32).reshape(4, 2), np.array([0, 2, 1, 0]))
    np.savez(tmp_path / "teacher.npz", obs=arrays.obs, actions=arrays.actions,
             rewards=arrays.rewards, episode_starts=arrays.episode_starts)
    dataset = BaselineDataset(tmp_path / "teacher.npz")
    assert dataset.observation_space == gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
    assert dataset.action_space == gym.spaces.Discrete(3)


def test_n_episodes_is_the_number_of_training_episodes_in_both_splits(loaded):
    train = BaselineDataset(loaded, n_episodes=3)
    evaluation = BaselineDataset(loaded, n_episodes=3, split="eval")
    assert train.num_episodes == 3 and evaluation.num_episodes == 2
    np.testing.assert_array_equal(
        np.concatenate([train.episode_seeds, evaluation.episode_seeds]), loaded.arrays.seeds)


def test_the_hub_card_is_a_dataset_card_pointing_at_the_data(loaded, tmp_path):
    from huggingface_hub import DatasetCard

    folder = write_hub_folder(loaded, tmp_path / "hub", split="train")
    card = DatasetCard.load(folder / "README.md")
    assert card.data.configs == [{"config_name": "default", "data_files": [
        {"split": "train", "path": "data/train-*.parquet"}]}]
    assert "il-datasets" in card.data.tags
    assert "# CartPole-v1 expert dataset" in card.text


def test_minari_export_keeps_our_metadata_and_scores_without_a_registered_env(minari_home):
    arrays = _arrays(np.zeros((4, 3), np.float32), np.array([0, 1, 1, 0]))
    obs, act = infer_spaces(arrays.obs, arrays.actions)
    metadata = build_metadata(
        arrays, env={"id": "NotRegistered-v0", "observation_space": obs, "action_space": act},
        expert={"kind": "unknown"}, collection={}, acceptance={},
        reference={"random_return_mean": -1.0, "expert_return_mean": 4.0}, creation={})
    exported = to_minari(LoadedData(arrays, metadata, "arrays"), "il-datasets/none/test-v0",
                         author="tests")
    raw = exported.storage.metadata
    assert (raw["ref_min_score"], raw["ref_max_score"]) == (-1.0, 4.0)
    assert "env_spec" not in raw
    assert json.loads(raw[METADATA_KEY]) == metadata
