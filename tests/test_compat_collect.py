"""IL-Datasets 1.0.0's enjoy/collate contracts, called directly and through our Controller."""

import json
from argparse import Namespace

import gymnasium as gym
import numpy as np
import pytest
from conftest import heuristic_policy

from imitation_datasets.controller import Controller
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.functions import baseline_collate, baseline_enjoy, collate, enjoy
from imitation_datasets.utils import Context, Experiment

BASELINE_KEYS = ["obs", "actions", "rewards", "episode_returns", "episode_starts"]


def npz_keys(path):
    with np.load(path, allow_pickle=False) as data:
        return list(data.files), {k: data[k] for k in data.files}


# ------------------------------------------------------------------ direct calls (1.0.0 API)
def test_enjoy_called_directly_writes_states_actions_and_returns_accepted_and_return(tmp_path):
    expert = heuristic_policy(threshold=100.0)
    context = Context(Experiment(1, str(tmp_path / "logs.txt")), 4)
    accepted, episode_return = enjoy(expert, f"{tmp_path}/", context)
    assert accepted is True and episode_return >= 100
    keys, data = npz_keys(tmp_path / "4.npz")
    assert keys == ["states", "actions"]
    assert len(data["states"]) == len(data["actions"]) == int(episode_return)
    # states are the observations the actions were taken in (1.0.0 stored the next ones)
    env = gym.make("CartPole-v1")
    first, _ = env.reset(seed=4)  # Context without seed: reset with the index
    np.testing.assert_array_equal(data["states"][0], first)
    np.testing.assert_array_equal(data["actions"], expert.predict(data["states"])[0])
    assert "Accumulated reward" in context.experiments.logs[4][0]


def test_rejected_episode_writes_nothing_and_says_so(tmp_path):
    context = Context(Experiment(1, str(tmp_path / "logs.txt")), 0)
    assert enjoy(heuristic_policy(threshold=1e9), f"{tmp_path}/", context)[0] is False
    assert baseline_enjoy(heuristic_policy(threshold=1e9), f"{tmp_path}/", context) is False
    assert not list(tmp_path.glob("*.npz"))


def test_baseline_enjoy_then_collate_write_the_original_teacher_npz(tmp_path):
    expert = heuristic_policy()
    experiment = Experiment(3, str(tmp_path / "logs.txt"))
    path = f"{tmp_path}/"
    for index in range(3):
        assert baseline_enjoy(expert, path, Context(experiment, index)) is True
    keys, episode = npz_keys(tmp_path / "1.npz")
    assert keys == ["obs", "actions", "rewards", "episode_returns"]
    assert episode["episode_returns"].tolist() == [episode["rewards"].sum()]
    lengths = [len(npz_keys(tmp_path / f"{i}.npz")[1]["actions"]) for i in range(3)]
    assert baseline_collate(path, ["0.npz", "1.npz", "2.npz"]) is True
    keys, teacher = npz_keys(tmp_path / "teacher.npz")
    assert keys == BASELINE_KEYS
    assert np.flatnonzero(teacher["episode_starts"]).tolist() == [0, lengths[0],
                                                                   lengths[0] + lengths[1]]
    assert teacher["episode_starts"].dtype == np.float64 and len(teacher["obs"]) == sum(lengths)
    assert teacher["episode_returns"].shape == (3,)
    assert not list(tmp_path.glob("[0-9].npz"))  # collate removes the episode files (1.0.0)


def test_collate_writes_states_actions_episode_starts_only(tmp_path):
    experiment = Experiment(2, str(tmp_path / "logs.txt"))
    for index in range(2):
        assert enjoy(heuristic_policy(), f"{tmp_path}/", Context(experiment, index))[0]
    assert collate(f"{tmp_path}/", ["0.npz", "1.npz"]) is True
    keys, teacher = npz_keys(tmp_path / "teacher.npz")
    assert keys == ["states", "actions", "episode_starts"]
    assert teacher["episode_starts"].sum() == 2 and teacher["states"].shape[1] == 4


def test_collate_of_a_file_without_the_keys_names_it(tmp_path):
    np.savez(tmp_path / "0.npz", something=np.zeros(3))
    with pytest.raises(DatasetFormatError, match="0.npz.*missing"):
        baseline_collate(f"{tmp_path}/", ["0.npz"])
    np.save(tmp_path / "1.npz", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DatasetFormatError, match="1.npz"):
        baseline_collate(f"{tmp_path}/", ["1.npz"])


# ------------------------------------------------------------------ through the Controller
def test_controller_teacher_npz_holds_exactly_the_original_keys(tmp_path):
    out = Controller(baseline_enjoy, baseline_collate, 4, 1, f"{tmp_path}/",
                     expert=heuristic_policy(), progress=False).start(
        {"game": "b", "mode": "all"})
    keys, teacher = npz_keys(out / "teacher.npz")
    assert keys == BASELINE_KEYS
    arrays, _ = read_parquet(out)  # the richer data stays in the Parquet folder
    np.testing.assert_array_equal(teacher["obs"], arrays.obs)
    np.testing.assert_array_equal(teacher["episode_returns"], arrays.returns)
    out = Controller(enjoy, collate, 3, 1, f"{tmp_path}/", expert=heuristic_policy(),
                     progress=False).start({"game": "s", "mode": "all"})
    keys, teacher = npz_keys(out / "teacher.npz")
    assert keys == ["states", "actions", "episode_starts"]
    assert teacher["episode_starts"].sum() == 3


def test_user_enjoy_returning_1_0_0_tuple_is_rejected_when_false_and_return_recorded(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()

    def tuple_enjoy(expert, path, context):
        """1.0.0's enjoy: (accepted, return); the first attempt of each episode fails."""
        (calls / f"{context.index}-{context.attempt}").touch()  # runs in a worker process
        accepted = context.attempt > 0
        if accepted:
            np.savez(f"{path}{context.index}", states=np.zeros((2, 4)), actions=np.zeros(2))
        return accepted, 10.0 + context.attempt

    seen = {}

    def my_collate(path, data):
        seen["data"] = data
        return True

    Controller(tuple_enjoy, my_collate, 3, 1, f"{tmp_path}/", expert=heuristic_policy(),
               progress=False).start(Namespace(game="t", mode="all", threshold=None))
    assert sorted(p.name for p in calls.iterdir()) == [f"{i}-{a}" for i in range(3)
                                                         for a in (0, 1)]
    assert seen["data"] == ["0.npz", "1.npz", "2.npz"]


def test_user_collate_reads_the_files_1_0_0_enjoy_wrote_with_built_in_enjoy(tmp_path):
    """A 1.0.0 collate (np.load of <path><file>, its keys) works after our built-in enjoy."""
    def my_collate(path, data):
        states, actions, returns = [], [], []
        for file in data:
            episode = np.load(f"{path}{file}")
            states.append(episode["obs"])
            actions.append(episode["actions"])
            returns.append(float(episode["episode_returns"][0]))
        np.savez(f"{path}teacher", obs=np.concatenate(states), actions=np.concatenate(actions))
        (tmp_path / "returns.json").write_text(json.dumps(returns))
        return True

    out = Controller(baseline_enjoy, my_collate, 3, 2, f"{tmp_path}/", expert=heuristic_policy(),
                     progress=False).start({"game": "c", "mode": "all"})
    keys, teacher = npz_keys(out / "teacher.npz")
    assert keys == ["obs", "actions"] and teacher["obs"].shape[1] == 4
    assert len(json.loads((tmp_path / "returns.json").read_text())) == 3

    def states_collate(path, data):
        seen = [sorted(np.load(f"{path}{f}").files) for f in data]
        assert seen == [["actions", "states"]] * 3
        return True

    Controller(enjoy, states_collate, 3, 1, f"{tmp_path}/", expert=heuristic_policy(),
               progress=False).start({"game": "d", "mode": "all"})
