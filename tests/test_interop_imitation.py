"""imitation's saved trajectories. imitation 1.0.1 needs gymnasium 0.29 and cannot be installed
beside us: here the folder is checked against the columns imitation writes itself
(``huggingface_utils.trajectories_to_dict``); ``python benchmarks/interop_imitation.py`` loads it
with ``imitation.data.serialize.load`` in imitation's own environment and trains its BC."""

import json

import numpy as np
import pytest

from imitation_datasets.data.interop_imitation import to_imitation
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import BaselineDataset

datasets = pytest.importorskip("datasets")


def test_trajectories_in_imitations_own_columns(random_cartpole, tmp_path):
    arrays = read_parquet(random_cartpole)[0]
    folder = to_imitation(random_cartpole, tmp_path / "trajectories")
    saved = datasets.load_from_disk(str(folder))
    assert saved.column_names == ["obs", "acts", "infos", "terminal", "rews"]
    assert len(saved) == arrays.n_episodes
    for e, row in enumerate(saved.with_format("numpy", dtype=None)):
        rows = slice(arrays.starts[e], arrays.starts[e] + arrays.lengths[e])
        obs = np.stack(row["obs"])
        assert len(obs) == arrays.lengths[e] + 1  # imitation's Trajectory: len(obs) == T + 1
        np.testing.assert_array_equal(obs[:-1], arrays.obs[rows])
        np.testing.assert_array_equal(obs[-1], arrays.final_obs[e])
        np.testing.assert_array_equal(row["acts"], arrays.actions[rows])
        assert row["rews"].dtype == np.float64
        np.testing.assert_array_equal(row["rews"], arrays.rewards[rows])
        assert bool(row["terminal"]) == bool(arrays.terminated[rows][-1])
        assert [json.loads(i) for i in row["infos"]] == [{}] * arrays.lengths[e]


def test_a_split_exports_only_its_episodes(random_cartpole, tmp_path):
    evaluation = BaselineDataset(random_cartpole, n_episodes=3, split="eval")
    folder = to_imitation(evaluation, tmp_path / "eval")
    assert len(datasets.load_from_disk(str(folder))) == evaluation.num_episodes == 3
