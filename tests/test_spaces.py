"""Every observation and action space a dataset can hold is collected and loaded back; the
others are refused in one line naming the space, before any worker starts."""

import json

import gymnasium as gym
import numpy as np
import pytest
import spaces_env
from spaces_env import ACTIONS, OBSERVATIONS, env_id

from imitation_datasets.cli import main
from imitation_datasets.controller import Controller
from imitation_datasets.core.spaces import (
    UnsupportedSpaceError,
    flatten_observation,
    observation_box,
    unflatten_observation,
)
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.data.schema import metadata_structure, space_from_dict
from imitation_datasets.dataset import BaselineDataset, to_hf_dataset
from imitation_datasets.experts import CallablePolicy
from imitation_datasets.functions import baseline_collate, random_enjoy

SUPPORTED_OBS = [k for k in OBSERVATIONS if k != "text"]
SUPPORTED_ACT = [k for k in ACTIONS if k != "tuple"]


def collect(tmp_path, observation, action, episodes=3):
    gym_id = env_id(observation, action)
    policy = CallablePolicy(lambda obs: None, gym_id, identity=f"random-{gym_id}")
    controller = Controller(random_enjoy, baseline_collate, episodes=episodes, threads=1,
                            path=tmp_path, expert=policy, progress=False)
    return controller.start({"game": f"{observation}-{action}", "mode": "all"})


@pytest.mark.parametrize("observation", SUPPORTED_OBS)
def test_every_observation_space_is_collected_and_loaded(tmp_path, observation):
    folder = collect(tmp_path, observation, "discrete")
    metadata = json.loads((folder / "metadata.json").read_text())
    original = OBSERVATIONS[observation]()
    stored = space_from_dict(metadata["env"]["observation_space"])
    assert stored == observation_box(original)
    data = BaselineDataset(folder)
    obs = data.arrays.obs
    assert obs.shape[1:] == stored.shape and obs.dtype == stored.dtype
    assert all(stored.contains(row) for row in obs)
    structure = metadata_structure(data.metadata)
    if isinstance(original, gym.spaces.Box):
        assert structure is None and "observation_structure" not in metadata["env"]
    else:
        assert structure == original
        assert all(original.contains(unflatten_observation(structure, row)) for row in obs)
    s, a, s_next = data[0]
    assert s.shape == s_next.shape == stored.shape


@pytest.mark.parametrize("action", SUPPORTED_ACT)
def test_every_action_space_is_collected_and_loaded(tmp_path, action):
    folder = collect(tmp_path, "box2d", action)
    arrays, metadata = read_parquet(folder)
    space = ACTIONS[action]()
    if isinstance(space, gym.spaces.Discrete | gym.spaces.Box):
        assert "action_structure" not in metadata["env"]
    else:
        assert metadata_structure(metadata, "action") == space
    assert all(space.contains(np.asarray(a, dtype=space.dtype)) for a in arrays.actions)
    data = BaselineDataset(folder)
    assert len(data) == arrays.n_steps


def test_flatten_and_unflatten_are_inverse():
    space = OBSERVATIONS["dict"]()
    space.seed(0)
    box = observation_box(space)
    assert box.shape == (2 + 1 + 2 + 1,) and box.dtype == np.float64  # float32 + int64 leaves
    for _ in range(20):
        value = space.sample()
        row = flatten_observation(space, box, value)
        back = unflatten_observation(space, row)
        assert back["door"] == value["door"] and back["inner"][1] == value["inner"][1]
        np.testing.assert_array_equal(back["pos"], value["pos"])
        np.testing.assert_array_equal(back["inner"][0], value["inner"][0])
    with pytest.raises(ValueError, match="does not fit"):
        unflatten_observation(space, np.zeros(5))


@pytest.mark.parametrize(("observation", "action", "named"), [
    ("text", "discrete", "observation space Text("), ("box2d", "tuple", "action space Tuple(")])
def test_unsupported_spaces_are_refused_in_one_line(tmp_path, observation, action, named):
    with pytest.raises(UnsupportedSpaceError) as caught:
        collect(tmp_path, observation, action)
    message = str(caught.value)
    assert named in message and "\n" not in message and "is not supported; supported:" in message
    assert not (tmp_path / f"{observation}-{action}").exists()


@pytest.mark.parametrize("env", ["Taxi-v4", "FrozenLake-v1", "Blackjack-v1"])
def test_gymnasium_toy_text_envs_collect_with_random_actions(tmp_path, capsys, env):
    out = tmp_path / "d"
    assert main(["collect", env, "--random", "--episodes", "3", "--workers", "1",
                 "--out", str(out), "--quiet"]) == 0
    data = BaselineDataset(out)
    assert data.num_episodes == 3 and data.arrays.obs.dtype == np.int64
    back = BaselineDataset(to_hf_dataset(out).save_to_disk(str(tmp_path / "hf")) or
                           tmp_path / "hf")
    assert back.arrays.equals(data.arrays)


assert spaces_env  # registers the toy environments
