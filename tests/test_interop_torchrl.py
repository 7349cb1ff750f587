"""TorchRL (a dev dependency): our TensorDict and replay buffer, and TorchRL's own
MinariExperienceReplay reading our Minari export (hdf5, Minari's default)."""

import numpy as np
import torch

from imitation_datasets.data.interop_torchrl import to_replay_buffer, to_tensordict
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import BaselineDataset, to_minari


def test_tensordict_holds_every_transition_in_torchrl_conventions(random_cartpole):
    arrays = read_parquet(random_cartpole)[0]
    data = to_tensordict(random_cartpole)
    assert data.batch_size == torch.Size([arrays.n_steps])
    np.testing.assert_array_equal(data["observation"].numpy(), arrays.obs)
    np.testing.assert_array_equal(data["action"].numpy(), arrays.actions)
    last = arrays.starts + arrays.lengths - 1
    np.testing.assert_array_equal(data["next", "observation"][last].numpy(), arrays.final_obs)
    inside = np.setdiff1d(np.arange(arrays.n_steps), last)
    np.testing.assert_array_equal(data["next", "observation"][inside].numpy(),
                                  arrays.obs[inside + 1])
    assert data["next", "reward"].shape == (arrays.n_steps, 1)
    np.testing.assert_array_equal(data["next", "reward"][:, 0].numpy(), arrays.rewards)
    np.testing.assert_array_equal(data["next", "terminated"][:, 0].numpy(), arrays.terminated)
    np.testing.assert_array_equal(data["next", "done"][:, 0].numpy(),
                                  arrays.terminated | arrays.truncated)
    assert not data["done"].any()
    np.testing.assert_array_equal(data["episode"].numpy(), arrays.episode_index)


def test_replay_buffer_samples_reproducibly_and_a_split_exports_only_its_episodes(random_cartpole):
    first = to_replay_buffer(random_cartpole, batch_size=8, seed=3).sample()
    again = to_replay_buffer(random_cartpole, batch_size=8, seed=3).sample()
    assert torch.equal(first["observation"], again["observation"])
    evaluation = BaselineDataset(random_cartpole, n_episodes=3, split="eval")
    buffer = to_replay_buffer(evaluation)
    assert len(buffer) == len(evaluation)


def test_torchrl_minari_experience_replay_reads_our_minari_export(random_cartpole, tmp_path,
                                                                   monkeypatch):
    from torchrl.data.datasets import MinariExperienceReplay

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    to_minari(random_cartpole, "il-datasets/cartpole/trl-v0")  # hdf5: what TorchRL reads
    replay = MinariExperienceReplay("il-datasets/cartpole/trl-v0", batch_size=4,
                                    root=str(tmp_path / "torchrl"), load_from_local_minari=True)
    ours = to_tensordict(random_cartpole)
    stored = replay.storage[:]
    # Same transitions, keys, shapes and dtypes as our own TensorDict. (TorchRL 0.14.1 fills
    # the values with zeros on this local path, for Minari's own hdf5 datasets too: its bug,
    # not the export's; to_tensordict / to_replay_buffer are the exact route.)
    assert len(replay) == len(ours)
    for key in ("observation", "action", ("next", "observation"), ("next", "reward"),
                ("next", "terminated"), ("next", "truncated"), ("next", "done")):
        assert stored[key].shape == ours[key].shape, key
        assert stored[key].dtype == ours[key].dtype, key
