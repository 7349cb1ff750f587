"""IL-Datasets 1.0.0's dataset surface: BaselineDataset/IRLDataset items, metrics, HF helpers."""

import json

import numpy as np
import pytest
import torch
from conftest import make_dataset
from torch.utils.data import DataLoader

from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import (
    BaselineDataset,
    IRLDataset,
    baseline_to_huggingface,
    convert_baseline_dataset_to_dict,
    huggingface_to_baseline,
    save_dataset_into_huggingface_format,
)
from imitation_datasets.dataset.dataset import DatasetNotFoundError
from imitation_datasets.dataset.metrics import accuracy, average_episodic_reward, performance

EPISODES = 6


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("compat"), EPISODES, random=True, name="r")


@pytest.fixture(scope="module")
def arrays(folder):
    return read_parquet(folder)[0]


@pytest.fixture(scope="module")
def original_npz(folder, tmp_path_factory):
    """The teacher.npz our collate writes: exactly 1.0.0's keys, no final observations."""
    return folder / "teacher.npz"


def episodes_of(arrays):
    for start, length in zip(arrays.starts, arrays.lengths):
        yield int(start), int(start + length)


def expected_original(arrays):
    """1.0.0's transitions of an npz, built episode by episode: the last step has no s'."""
    s, a, n, done, r = [], [], [], [], []
    for start, end in episodes_of(arrays):
        s.append(arrays.obs[start:end - 1])
        n.append(arrays.obs[start + 1:end])
        a.append(arrays.actions[start:end - 1].reshape(-1, 1))
        flags = np.zeros(end - start - 1, bool)
        flags[-1] = True
        done.append(flags)
        r.append(arrays.rewards[start:end - 1])
    return [np.concatenate(x) for x in (s, a, n, done, r)]


def test_baseline_dataset_items_match_the_original_on_its_npz(original_npz, arrays):
    data = BaselineDataset(str(original_npz))
    s, a, n, done, _ = expected_original(arrays)
    assert len(data) == len(s) == arrays.n_steps - arrays.n_episodes
    item = data[0]
    assert len(item) == 3 and item[1].shape == (1,) and item[1].dtype == torch.int64
    states, actions, following = data[:]
    np.testing.assert_array_equal(states.numpy(), s)
    np.testing.assert_array_equal(actions.numpy(), a)
    np.testing.assert_array_equal(following.numpy(), n)
    # 1.0.0's per-transition attributes
    np.testing.assert_array_equal(data.states.numpy(), s)
    np.testing.assert_array_equal(data.actions.numpy(), a)
    np.testing.assert_array_equal(data.next_states.numpy(), n)
    with_done = BaselineDataset(original_npz, return_done=True)
    assert len(with_done[0]) == 4
    np.testing.assert_array_equal(with_done[:][3].numpy(), done)
    assert bool(with_done[len(with_done) - 1][3]) and not bool(with_done[0][3])


def test_dataloader_batches_have_the_original_shapes(folder):
    loader = DataLoader(BaselineDataset(folder, return_done=True), batch_size=16)
    s, a, n, done = next(iter(loader))
    assert s.shape == (16, 4) and a.shape == (16, 1) and n.shape == (16, 4)
    assert done.dtype == torch.bool and done.shape == (16,)
    # 1.0.0's BC loop: action.squeeze(1) gives the class indices
    assert a.squeeze(1).shape == (16,)


def test_our_folder_keeps_every_step_and_done_is_on_each_episode_end(folder, arrays):
    data = BaselineDataset(folder, return_done=True)
    assert len(data) == arrays.n_steps
    ends = np.cumsum(arrays.lengths) - 1
    np.testing.assert_array_equal(np.flatnonzero(data[:][3].numpy()), ends)
    assert data.states.shape == (arrays.n_steps, 4) and data.actions.shape == (arrays.n_steps, 1)
    last = int(ends[0])
    np.testing.assert_array_equal(data.next_states[last].numpy(), arrays.final_obs[0])


def test_irl_dataset_unpacks_as_1_0_0_state_action_next_done_reward(original_npz, arrays):
    data = IRLDataset(original_npz, "local", "train", "train", 4)
    s, a, n, done, r = expected_original(arrays.select(range(4)))
    states, actions, following, dones, rewards = data[:]
    np.testing.assert_array_equal(actions.numpy(), a)
    np.testing.assert_array_equal(dones.numpy(), done)
    np.testing.assert_allclose(rewards.numpy(), r.astype(np.float32))
    assert dones.dtype == torch.bool and rewards.dtype == torch.float32
    evaluation = IRLDataset(original_npz, n_episodes=4, split="eval")
    assert len(evaluation) == sum(arrays.lengths[4:]) - (EPISODES - 4)


def test_missing_path_is_a_value_error_as_in_1_0_0(tmp_path):
    with pytest.raises(ValueError, match="nothing"):
        BaselineDataset(str(tmp_path / "nothing.npz"))
    with pytest.raises(DatasetNotFoundError):
        IRLDataset(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError):  # what this library raised before: still true
        BaselineDataset(tmp_path / "nothing.npz")


def test_create_dataset_argument_is_accepted_positionally(original_npz):
    data = BaselineDataset(original_npz, "local", "train", "train", None, None, False)
    assert len(data) > 0 and data.create_dataset is False
    assert set(data.data) == {"obs", "actions", "rewards", "episode_returns", "episode_starts"}


# ------------------------------------------------------------------ metrics
def test_performance_is_normalised_with_population_std():
    result = performance([10, 20, 30], 30, 10)
    assert result["performance"] == pytest.approx(0.5)
    assert result["performance_std"] == pytest.approx(np.std([0.0, 0.5, 1.0]))
    assert performance(25, 30, 10) == {"performance": 0.75, "performance_std": 0}
    assert performance(np.array([30.0]), 30, 10)["performance"] == pytest.approx(1.0)


@pytest.mark.parametrize("teacher, random, message", [
    ([1, 2], 0, "Teacher reward should not be a list"),
    (10, np.array([1.0]), "Random reward should not be a list"),
    (0, 10, "lesser than the teacher"),
    (5, 5, "undefined"),
])
def test_performance_refuses_what_1_0_0_refused(teacher, random, message):
    with pytest.raises(ValueError, match=message):
        performance([1.0], teacher, random)


def test_average_episodic_reward_and_accuracy():
    aer = average_episodic_reward([1, 2, 3, 4])
    assert aer["aer"] == 2.5 and aer["aer_std"] == pytest.approx(np.std([1, 2, 3, 4]))
    logits = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(logits, torch.tensor([1, 0, 0, 0])) == 75.0
    with pytest.raises(ValueError, match="tensor"):
        accuracy(logits.numpy(), torch.tensor([1, 0, 0, 0]))
    with pytest.raises(ValueError, match="2 dimensional"):
        accuracy(logits[:, 0], torch.tensor([1, 0, 0, 0]))
    with pytest.raises(ValueError, match="1 dimensional"):
        accuracy(logits, torch.tensor([[1], [0], [0], [0]]))
    with pytest.raises(ValueError, match="rows"):
        accuracy(logits, torch.tensor([1, 0]))


# ------------------------------------------------------------------ HuggingFace helpers
def test_npz_to_jsonl_in_the_original_upload_layout(original_npz, arrays, tmp_path):
    target = tmp_path / "teacher.jsonl"
    baseline_to_huggingface(str(original_npz), str(target))
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == arrays.n_steps
    assert list(rows[0]) == ["obs", "actions", "rewards", "episode_starts"]
    assert rows[0]["episode_starts"] == 1.0 and rows[1]["episode_starts"] == 0.0
    np.testing.assert_allclose([r["obs"] for r in rows], arrays.obs, rtol=1e-6)
    # and it loads back as the same transitions
    back = BaselineDataset(target)
    np.testing.assert_array_equal(back[:][1].numpy(), BaselineDataset(original_npz)[:][1].numpy())


def test_keys_choose_the_columns_and_short_columns_are_padded(original_npz, tmp_path):
    target = tmp_path / "k.jsonl"
    baseline_to_huggingface(original_npz, target, keys=["actions", "episode_returns"])
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert list(rows[0]) == ["actions", "episode_returns"]
    assert rows[EPISODES - 1]["episode_returns"] is not None
    assert rows[-1]["episode_returns"] is None
    with pytest.raises(ValueError, match="does not exist"):
        baseline_to_huggingface(tmp_path / "none.npz", tmp_path / "x.jsonl")
    with pytest.raises(ValueError, match="does not exist"):
        baseline_to_huggingface(original_npz, tmp_path / "no" / "x.jsonl")


def test_convert_and_save_are_the_two_halves(tmp_path):
    data = {"obs": np.arange(6.0).reshape(3, 2), "actions": np.array([0, 1, 0]),
            "rewards": np.ones(3), "episode_starts": np.array([1.0, 0.0, 1.0])}
    rows = convert_baseline_dataset_to_dict(data)
    assert rows[1] == {"obs": [2.0, 3.0], "actions": 1, "rewards": 1.0, "episode_starts": 0.0}
    save_dataset_into_huggingface_format(rows, tmp_path / "d.jsonl")
    assert [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()] == rows


def test_huggingface_to_baseline_gives_the_original_keys(folder, arrays):
    datasets = pytest.importorskip("datasets")
    rows = convert_baseline_dataset_to_dict(
        {"obs": arrays.obs, "actions": arrays.actions, "rewards": arrays.rewards,
         "episode_starts": arrays.episode_starts})
    converted = huggingface_to_baseline(datasets.Dataset.from_list(rows))
    for key in ("obs", "actions", "rewards", "episode_starts"):
        assert len(converted[key]) == arrays.n_steps
    np.testing.assert_allclose(converted["obs"], arrays.obs, rtol=1e-6)


def test_get_random_dataset_is_a_seeded_random_policy_dataset(tmp_path, monkeypatch):
    from imitation_datasets.dataset import get_random_dataset

    monkeypatch.chdir(tmp_path)
    data = get_random_dataset("CartPole-v1", episodes=4, threads=1)
    teacher = tmp_path / "dataset" / "random_CartPole-v1" / "teacher.npz"
    assert teacher.exists() and data.num_episodes == 4
    assert 8 < data.average_reward < 60  # random CartPole, far below the expert's 500
    again = get_random_dataset("CartPole-v1", episodes=4, threads=2)  # same seed: same data
    assert torch.equal(again[:][1], data[:][1])
    other = get_random_dataset("CartPole-v1", episodes=4, threads=1, seed=1)
    assert not torch.equal(other.states[:5], data.states[:5])
