"""IL-Datasets 1.0.0's baselines API (imitation_datasets.baselines.methods) over our methods."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import make_dataset
from torch import nn
from torch.utils.data import DataLoader

from imitation_datasets.baselines.methods import ABCO, BC, BCO, IUPE, OfflineIQLearn
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.dataset import BaselineDataset, IRLDataset


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("bl"), 8)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch, one_thread):
    monkeypatch.chdir(tmp_path)  # 1.0.0 writes ./tmp/ and ./benchmark_results/


def loader(dataset, shuffle=True):
    return DataLoader(dataset, batch_size=128, shuffle=shuffle,
                      generator=torch.Generator().manual_seed(0))


def test_bc_has_the_1_0_0_attributes():
    method = BC(gym.make("CartPole-v1"))
    assert method.discrete and method.observation_size == 4 and method.action_size == 2
    assert isinstance(method.loss_fn, nn.CrossEntropyLoss)
    assert isinstance(method.optimizer_fn, torch.optim.Adam)
    assert method.save_path == "./tmp/bc/CartPole/" and method.enjoy_criteria == 100
    continuous = BC(gym.make("MountainCarContinuous-v0"))
    assert not continuous.discrete and continuous.action_size == 1
    assert isinstance(continuous.loss_fn, nn.MSELoss)
    assert continuous.save_path == "./tmp/bc/MountainCarContinuous/"


def test_bc_trains_from_a_dataloader_and_keeps_the_best_weights(folder, tmp_path):
    train = BaselineDataset(folder, n_episodes=6)
    evaluation = BaselineDataset(folder, n_episodes=6, split="eval")
    method = BC(gym.make("CartPole-v1"), enjoy_criteria=3)
    assert method.train(4, loader(train), loader(evaluation, False)) is method
    log = json.loads((tmp_path / "benchmark_results/bc/CartPole/metrics.json").read_text())
    assert [r["epoch"] for r in log] == [0, 1, 2, 3]
    assert log[-1]["train"]["loss"] < log[0]["train"]["loss"]
    assert 50 < log[-1]["eval"]["accuracy"] <= 100  # percent, as 1.0.0
    assert "enjoy" in log[3] and "enjoy" not in log[0]
    assert (tmp_path / "tmp/bc/CartPole/best_model").is_dir()
    # the heuristic expert balances the pole; a few epochs of BC copy it well enough
    assert log[3]["enjoy"]["aer"] > 100
    states = train.states[:20].numpy()
    loaded = BC(gym.make("CartPole-v1")).load("./tmp/bc/CartPole/")
    best = [loaded.predict(s) for s in states]
    assert all(np.asarray(a).shape == () for a in best)
    with pytest.raises(ValueError, match="does not exist"):
        BC(gym.make("CartPole-v1")).load(str(tmp_path / "nowhere"))


def test_always_save_names_checkpoints_by_epoch(folder, tmp_path):
    method = BC(gym.make("CartPole-v1"), enjoy_criteria=1)
    method.train(3, loader(BaselineDataset(folder, n_episodes=2)), always_save=True,
                 folder=str(tmp_path / "results"))
    assert sorted(p.name for p in (tmp_path / "tmp/bc/CartPole").iterdir()) == ["1", "2"]
    assert (tmp_path / "results" / "metrics.json").exists()


def test_enjoy_reports_aer_and_performance_on_seeded_episodes():
    method = BC(gym.make("CartPole-v1"))
    first = method._enjoy(teacher_reward=500, random_reward=20)
    assert set(first) == {"aer", "aer_std", "performance", "performance_std"}
    assert first == method._enjoy(teacher_reward=500, random_reward=20)  # seeded
    assert set(method._enjoy()) == {"aer", "aer_std"}
    sequential = method._enjoy(transforms=lambda obs: obs)  # one by one on the user's env
    assert sequential["aer"] == pytest.approx(first["aer"])


def test_config_file_in_the_1_0_0_format(tmp_path):
    config = tmp_path / "bc.yaml"
    config.write_text("Default:\n  lr: 5e-4\n  policy: 'MlpPolicy'\n"
                      "CartPole:\n  lr: 6e-4\n  hidden_dim: [32]\n  policy: 'MlpPolicy'\n")
    method = BC(gym.make("CartPole-v1"), config_file=str(config))
    assert method.method.config.lr == pytest.approx(6e-4)
    assert method.method.config.hidden == (32,)
    assert method.hyperparameters["lr"] == pytest.approx(6e-4)
    assert BC(gym.make("Acrobot-v1"), config_file=str(config)).method.config.lr == \
        pytest.approx(5e-4)
    config.write_text("Default:\n  policy: 'CnnPolicy'\n")
    with pytest.raises(ConfigError, match="CnnPolicy"):
        BC(gym.make("CartPole-v1"), config_file=str(config))


def test_offline_iqlearn_needs_done_and_learns_from_irl_batches(folder, tmp_path):
    method = OfflineIQLearn(gym.make("CartPole-v1"), enjoy_criteria=100)
    assert method.save_path == "./tmp/iqlearn/CartPole/"
    with pytest.raises(ValueError, match="return_done=True"):
        method.train(1, loader(BaselineDataset(folder)))
    method.train(3, loader(IRLDataset(folder)),
                 loader(BaselineDataset(folder, return_done=True), False))
    log = json.loads((tmp_path / "benchmark_results/iqlearn/CartPole/metrics.json").read_text())
    assert {"loss", "expert_term", "chi2_term", "value_term"} <= set(log[0]["train"])
    assert log[-1]["eval"]["accuracy"] > 60
    # 1.0.0's positional order for this method: (n_epochs, train, eval, transforms, always_save)
    method.enjoy_criteria = 1
    method.train(2, loader(IRLDataset(folder)), None, None, True, str(tmp_path / "r"))
    assert sorted(p.name for p in (tmp_path / "tmp/iqlearn/CartPole").iterdir()) == ["1", "best"]
    method.save()
    again = OfflineIQLearn(gym.make("CartPole-v1")).load()
    obs = BaselineDataset(folder).states[:10].numpy()
    assert [int(again.predict(o)) for o in obs] == [int(method.predict(o)) for o in obs]


@pytest.mark.parametrize("cls", [BCO, ABCO, IUPE])
def test_observation_methods_fit_our_method_on_the_loaders_episodes(cls, folder, tmp_path):
    method = cls(gym.make("CartPole-v1"))
    assert method.save_path == f"./tmp/{cls.__name__.lower()}/CartPole/"
    train = BaselineDataset(folder, n_episodes=6)
    method.train(2, loader(train), loader(BaselineDataset(folder, n_episodes=6, split="eval")))
    assert method.method.epoch <= 2 and method.method.log is not None
    record = json.loads(
        (tmp_path / f"benchmark_results/{cls.__name__.lower()}/CartPole/metrics.json").read_text())
    assert record["fit"]["method"] == cls.__name__.lower() and "accuracy" in record["eval"]
    loaded = cls(gym.make("CartPole-v1")).load()
    states = train.states[:10].numpy()
    assert [int(loaded.predict(s)) for s in states] == [int(method.predict(s)) for s in states]
    with pytest.raises(TypeError, match="BaselineDataset"):
        method.train(1, DataLoader(list(zip(train.states, train.actions)), batch_size=8))
    with pytest.raises(TypeError, match="train\\(\\)"):
        method._train(loader(train))


def test_bco_takes_1_0_0_dict_of_expert_and_idm_loaders(folder, tmp_path):
    random = make_dataset(tmp_path / "random", 5, random=True, name="rnd")
    method = BCO(gym.make("CartPole-v1"))
    method.train(1, {"expert_dataset": loader(BaselineDataset(folder, n_episodes=4)),
                     "idm_dataset": loader(BaselineDataset(random))})
    assert (tmp_path / "tmp/bco/CartPole/best_model").is_dir()
