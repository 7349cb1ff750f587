"""d3rlpy's MDPDataset from our data. d3rlpy 2.8 pins gymnasium==1.0.0, so it is not a dev
dependency: this runs where d3rlpy is installed (``python benchmarks/interop_d3rlpy.py`` sets up
that environment and runs it), and is skipped elsewhere."""

import numpy as np
import pytest

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.parquet import read_parquet

d3rlpy = pytest.importorskip("d3rlpy")

from imitation_datasets.data.interop_d3rlpy import to_d3rlpy  # noqa: E402


def test_mdp_dataset_keeps_episodes_terminals_and_timeouts(random_cartpole):
    arrays = read_parquet(random_cartpole)[0]
    data = to_d3rlpy(random_cartpole)
    assert data.size() == arrays.n_episodes
    assert [e.size() for e in data.episodes] == arrays.lengths.tolist()
    assert [bool(e.terminated) for e in data.episodes] == \
        arrays.terminated[arrays.starts + arrays.lengths - 1].tolist()
    for e, episode in enumerate(data.episodes):
        rows = slice(arrays.starts[e], arrays.starts[e] + arrays.lengths[e])
        np.testing.assert_array_equal(episode.observations, arrays.obs[rows])
        np.testing.assert_array_equal(episode.actions.reshape(-1), arrays.actions[rows])
        np.testing.assert_allclose(episode.rewards.reshape(-1), arrays.rewards[rows], rtol=1e-6)
    assert data.dataset_info.action_size == 2


def test_original_layout_is_refused_in_one_line(random_cartpole, tmp_path):
    arrays = read_parquet(random_cartpole)[0]
    np.savez(tmp_path / "orig.npz", obs=arrays.obs, actions=arrays.actions,
             rewards=arrays.rewards, episode_starts=arrays.episode_starts)
    with pytest.raises(DatasetFormatError, match="final observation"):
        to_d3rlpy(tmp_path / "orig.npz")


def test_continuous_actions_and_a_split(tmp_path):
    from imitation_datasets.cli import main
    from imitation_datasets.dataset import BaselineDataset

    out = tmp_path / "pendulum"
    assert main(["collect", "Pendulum-v1", "--random", "--episodes", "3", "--workers", "1",
                 "--out", str(out), "--quiet"]) == 0
    arrays = read_parquet(out)[0]
    data = to_d3rlpy(out)
    assert data.dataset_info.action_space == d3rlpy.constants.ActionSpace.CONTINUOUS
    assert data.dataset_info.action_size == 1
    assert not any(e.terminated for e in data.episodes)  # Pendulum only truncates
    np.testing.assert_array_equal(np.concatenate([e.actions for e in data.episodes]),
                                  arrays.actions)
    evaluation = to_d3rlpy(BaselineDataset(out, n_episodes=2, split="eval"))
    assert evaluation.size() == 1
