import json

import numpy as np
import pytest
from conftest import make_dataset

from imitation_datasets.core.episode import Episode, EpisodeFileError
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.npz import export_npz, import_npz
from imitation_datasets.data.parquet import read_parquet, write_parquet


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("ds")
    return make_dataset(path, 12)


def test_npz_round_trip_keeps_every_array(dataset, tmp_path):
    arrays, _ = read_parquet(dataset)
    back = import_npz(export_npz(arrays, tmp_path / "teacher.npz"))
    assert back.equals(arrays)


def test_npz_in_the_original_layout(dataset, tmp_path):
    arrays, _ = read_parquet(dataset)
    np.savez(tmp_path / "orig.npz", obs=arrays.obs, actions=arrays.actions,
             rewards=arrays.rewards, episode_returns=arrays.returns,
             episode_starts=arrays.episode_starts.astype(np.float64))
    back = import_npz(tmp_path / "orig.npz")
    np.testing.assert_array_equal(back.lengths, arrays.lengths)
    np.testing.assert_array_equal(back.obs, arrays.obs)
    np.testing.assert_array_equal(back.returns, arrays.returns)
    assert back.final_obs is None and back.truncated.sum() == arrays.n_episodes


def test_collated_teacher_npz_has_the_original_keys(dataset):
    with np.load(dataset / "teacher.npz", allow_pickle=False) as data:
        for key in ("obs", "actions", "rewards", "episode_returns", "episode_starts"):
            assert key in data.files
        assert data["episode_starts"].sum() == 12
        np.testing.assert_array_equal(
            data["episode_returns"],
            np.add.reduceat(data["rewards"], np.flatnonzero(data["episode_starts"])))


def test_npz_with_object_arrays_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, obs=np.array([{"a": 1}], dtype=object), actions=np.zeros(1),
             rewards=np.zeros(1), episode_starts=np.ones(1))
    with pytest.raises(DatasetFormatError, match="pickle"):
        import_npz(path)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_npz_is_refused_with_the_file_name(tmp_path, damage):
    path = tmp_path / "teacher.npz"
    np.savez(path, obs=np.zeros((3, 2)), actions=np.zeros(3), rewards=np.zeros(3),
             episode_starts=np.array([1, 0, 0]))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a zip" * 10)
    with pytest.raises(DatasetFormatError, match="teacher.npz"):
        import_npz(path)


def test_npz_with_mismatched_lengths_is_refused(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, obs=np.zeros((3, 2)), actions=np.zeros(2), rewards=np.zeros(3),
             episode_starts=np.array([1, 0, 0]))
    with pytest.raises(DatasetFormatError, match="actions has 2 rows"):
        import_npz(path)


def test_parquet_round_trip(dataset, tmp_path):
    arrays, meta = read_parquet(dataset)
    write_parquet(tmp_path / "copy", arrays, meta)
    again, meta2 = read_parquet(tmp_path / "copy")
    assert again.equals(arrays) and meta2 == meta


def test_truncated_parquet_is_refused_with_the_file_name(dataset, tmp_path):
    import shutil

    copy = tmp_path / "broken"
    shutil.copytree(dataset, copy)
    data = (copy / "steps.parquet").read_bytes()
    (copy / "steps.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match="steps.parquet"):
        read_parquet(copy)


def test_missing_metadata_is_refused(tmp_path):
    with pytest.raises(DatasetFormatError, match="metadata.json: missing"):
        read_parquet(tmp_path)


def test_huggingface_datasets_reads_the_parquet_without_this_library(dataset):
    datasets = pytest.importorskip("datasets")
    steps = datasets.load_dataset("parquet", data_files=str(dataset / "steps.parquet"),
                                  split="train")
    meta = json.loads((dataset / "metadata.json").read_text())
    assert len(steps) == meta["total_steps"]
    arrays, _ = read_parquet(dataset)
    row = steps[5]
    np.testing.assert_allclose(row["obs"], arrays.obs[5])
    assert row["action"] == arrays.actions[5] and row["episode_index"] == 0
    episodes = datasets.load_dataset("parquet", data_files=str(dataset / "episodes.parquet"),
                                     split="train")
    assert episodes["return"] == meta["episodes"]["return"]


def test_staged_episode_file_round_trip_and_corruption(tmp_path):
    episode = Episode(obs=np.arange(6, dtype=np.float32).reshape(3, 2),
                      actions=np.array([0, 1, 0]), rewards=np.ones(3),
                      final_obs=np.zeros(2, np.float32), terminated=True, truncated=False,
                      seed=5, index=2, attempt=1, rejected_returns=(3.0, float("nan")))
    path = tmp_path / "episode_0000002.ep"
    episode.save(path)
    back = Episode.load(path)
    np.testing.assert_array_equal(back.obs, episode.obs)
    assert (back.seed, back.index, back.attempt, back.terminated) == (5, 2, 1, True)
    assert back.rejected_returns[0] == 3.0 and np.isnan(back.rejected_returns[1])
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(EpisodeFileError, match="episode_0000002.ep"):
        Episode.load(path)


def test_dataset_arrays_refuse_inconsistent_lengths():
    with pytest.raises(ValueError, match="obs has 2 rows"):
        DatasetArrays(obs=np.zeros((2, 1)), actions=np.zeros(3), rewards=np.zeros(3),
                      terminated=np.zeros(3, bool), truncated=np.zeros(3, bool),
                      lengths=np.array([3]), final_obs=None, seeds=np.zeros(1, np.int64),
                      attempts=np.ones(1, np.int64))


def test_collate_is_linear_in_the_number_of_episodes():
    """Concatenating 4x more episodes costs about 4x the array operations (no np.append)."""
    import time

    def cost(n):
        eps = [Episode(obs=np.zeros((50, 4), np.float32), actions=np.zeros(50, np.int64),
                       rewards=np.ones(50), final_obs=np.zeros(4, np.float32),
                       terminated=True, truncated=False, seed=i) for i in range(n)]
        best = float("inf")
        for _ in range(7):
            start = time.perf_counter()
            DatasetArrays.from_episodes(eps)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = cost(500), cost(4000)
    assert large / small < 24, (small, large)  # linear: ~8; quadratic growth would give ~64


def test_original_collate_signature_works_on_staged_files(tmp_path):
    from imitation_datasets.functions import baseline_collate as collate_fn

    for i in range(3):
        Episode(obs=np.full((4, 2), i, np.float32), actions=np.array([0, 1, 1, 0]),
                rewards=np.ones(4), final_obs=np.zeros(2, np.float32), terminated=True,
                truncated=False, seed=i, index=i).save(tmp_path / f"episode_{i:07d}.ep")
    assert collate_fn(str(tmp_path) + "/", [f"episode_{i:07d}.ep" for i in (2, 0, 1)])
    arrays, meta = read_parquet(tmp_path)
    assert arrays.n_episodes == 3 and arrays.obs[4, 0] == 1.0
    assert meta["env"]["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
