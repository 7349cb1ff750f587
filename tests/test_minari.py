"""Minari interop: export keeps seeds, env spec and reference scores; import round-trips."""

import numpy as np
import pytest
from conftest import make_dataset

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import BaselineDataset, from_minari, minari_to_dataset, to_minari

minari = pytest.importorskip("minari")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    path = tmp_path_factory.mktemp("minari-src")
    return make_dataset(path, 6, random=True, name="rnd")


@pytest.fixture(autouse=True)
def minari_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))


def test_export_opens_in_minari_with_provenance(dataset):
    arrays, metadata = read_parquet(dataset)
    exported = to_minari(dataset, "il-datasets/cartpole/random-v0", author="tests",
                         expert_return=500.0)
    loaded = minari.load_dataset("il-datasets/cartpole/random-v0")
    assert loaded.storage.metadata["data_format"] == "hdf5"  # Minari's default; TorchRL reads it
    assert loaded.total_episodes == arrays.n_episodes and loaded.total_steps == arrays.n_steps
    assert exported.total_steps == arrays.n_steps
    assert loaded.spec.env_spec.id == "CartPole-v1"
    assert loaded.recover_environment().spec.id == "CartPole-v1"
    episode_meta = list(loaded.storage.get_episode_metadata(loaded.episode_indices))
    assert [m["seed"] for m in episode_meta] == arrays.seeds.tolist()
    raw = loaded.storage.metadata
    assert raw["ref_min_score"] == pytest.approx(float(metadata["reference"]["random_return_mean"]))
    assert "expert_return_mean" not in metadata["reference"]  # a random-policy dataset
    assert raw["ref_max_score"] == 500.0  # the expert's return we passed, not the dataset's mean
    for e, episode in enumerate(loaded.iterate_episodes()):
        start, length = arrays.starts[e], arrays.lengths[e]
        np.testing.assert_array_equal(episode.observations[:-1], arrays.obs[start:start + length])
        np.testing.assert_array_equal(episode.observations[-1], arrays.final_obs[e])
        np.testing.assert_array_equal(episode.actions, arrays.actions[start:start + length])
        np.testing.assert_array_equal(episode.terminations, arrays.terminated[start:start + length])
    score = minari.get_normalized_score(loaded, np.array([raw["ref_max_score"]]))
    assert score[0] == pytest.approx(1.0)


def test_import_round_trip_keeps_every_array(dataset, tmp_path):
    arrays, metadata = read_parquet(dataset)
    to_minari(dataset, "il-datasets/cartpole/round-v0", author="tests")
    back, back_metadata = from_minari("il-datasets/cartpole/round-v0")
    assert back.equals(arrays) and back_metadata == metadata
    written = minari_to_dataset("il-datasets/cartpole/round-v0", tmp_path / "imported")
    again, _ = read_parquet(written)
    assert again.equals(arrays)
    data = BaselineDataset("il-datasets/cartpole/round-v0", source="minari", n_episodes=2,
                           split="eval")
    assert data.num_episodes == 4 and data.origin == "minari://il-datasets/cartpole/round-v0"


@pytest.mark.filterwarnings("ignore:`eval_env` is set to None")
def test_import_of_a_dataset_made_by_minari_itself(tmp_path):
    from minari.data_collector import EpisodeBuffer

    rng = np.random.default_rng(0)
    buffers = []
    for e in range(3):
        steps = 5 + e
        buffers.append(EpisodeBuffer(
            seed=100 + e, observations=rng.standard_normal((steps + 1, 3)).astype(np.float32),
            actions=rng.uniform(-2, 2, (steps, 1)).astype(np.float32),
            rewards=rng.standard_normal(steps).tolist(),
            terminations=[False] * steps, truncations=[False] * (steps - 1) + [True]))
    minari.create_dataset_from_buffers(
        "tests/pendulum/made-v0", buffers, env="Pendulum-v1", algorithm_name="random",
        author="tests", author_email="t@example.org", code_permalink="x", description="d",
        ref_min_score=-1000.0, ref_max_score=-100.0, data_format="arrow")
    arrays, metadata = from_minari("tests/pendulum/made-v0")
    assert arrays.lengths.tolist() == [5, 6, 7] and arrays.seeds.tolist() == [100, 101, 102]
    assert arrays.actions.shape == (18, 1) and arrays.final_obs.shape == (3, 3)
    assert metadata["env"]["id"] == "Pendulum-v1"
    assert metadata["reference"]["random_return_mean"] == -1000.0
    assert metadata["reference"]["expert_return_mean"] == -100.0
    data = BaselineDataset("tests/pendulum/made-v0", source="minari")
    assert len(data) == 18 and data.action_space.shape == (1,)


def test_original_layout_cannot_become_minari(dataset, tmp_path):
    arrays, _ = read_parquet(dataset)
    np.savez(tmp_path / "orig.npz", obs=arrays.obs, actions=arrays.actions,
             rewards=arrays.rewards, episode_starts=arrays.episode_starts)
    with pytest.raises(DatasetFormatError, match="final observation"):
        to_minari(tmp_path / "orig.npz", "il-datasets/cartpole/orig-v0")
    with pytest.raises(DatasetFormatError, match="cannot load"):
        from_minari("il-datasets/nothing/here-v0")


def test_a_random_dataset_never_scores_itself(dataset):
    """Without an expert return, no reference scores: never the dataset's own mean as maximum."""
    exported = to_minari(dataset, "il-datasets/cartpole/noref-v0", data_format="arrow")
    raw = exported.storage.metadata
    assert "ref_max_score" not in raw and "ref_min_score" not in raw
    assert raw["data_format"] == "arrow"
    with pytest.raises(ValueError, match="data_format='zip'"):
        to_minari(dataset, "il-datasets/cartpole/zip-v0", data_format="zip")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_export_combines_with_a_dataset_minari_made_from_the_registry(dataset):
    """The exported env spec is the registry's, so minari.combine_datasets accepts the pair."""
    import gymnasium as gym
    from minari.data_collector import EpisodeBuffer

    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=0)
    observations, actions = [obs], []
    for _ in range(5):
        actions.append(env.action_space.sample())
        observations.append(env.step(actions[-1])[0])
    theirs = minari.create_dataset_from_buffers(
        "il-datasets/cartpole/theirs-v0", [EpisodeBuffer(
            id=0, seed=0, observations=np.array(observations), actions=np.array(actions),
            rewards=[1.0] * 5, terminations=[False] * 5, truncations=[False] * 4 + [True])],
        env="CartPole-v1", algorithm_name="random")
    ours = to_minari(dataset, "il-datasets/cartpole/ours-v0")
    assert ours.spec.env_spec == theirs.spec.env_spec
    assert not ours.spec.env_spec.disable_env_checker
    combined = minari.combine_datasets([minari.load_dataset("il-datasets/cartpole/ours-v0"),
                                        theirs], "il-datasets/cartpole/combined-v0")
    assert combined.total_episodes == ours.total_episodes + 1
