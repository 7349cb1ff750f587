"""ARS-numpy (the MuJoCo experts' trainer): exact resume, worker-count independence, export."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from imitation_datasets.core.errors import ConfigError
from imitation_zoo.ars import ARSConfig, ObsStats
from imitation_zoo.recipe import load_recipe

pytestmark = pytest.mark.skipif(importlib.util.find_spec("mujoco") is None,
                                reason="mujoco is not installed")


def _recipe(net_arch=()):
    base = load_recipe("invertedpendulum")
    hyper = {"n_delta": 4, "n_top": 2, "learning_rate": 0.02, "delta_std": 0.03}
    if net_arch:
        hyper["net_arch"] = list(net_arch)
    return dataclasses.replace(base, algo="ARS-numpy", policy="linear" if not net_arch else "mlp",
                               normalize={"norm_obs": True}, hyperparameters=hyper,
                               eval_freq=1500, eval_episodes=3, resumable=True)


def _state(folder):
    return load_file(str(folder / "invertedpendulum" / "state.safetensors"))


@pytest.mark.parametrize("net_arch", [(), (8,)])
def test_resume_and_worker_count_do_not_change_the_result(tmp_path, net_arch):
    from imitation_zoo.ars_training import train_ars

    recipe = _recipe(net_arch)
    train_ars(recipe, timesteps=3000, checkpoints_root=tmp_path / "one", workers=1)
    train_ars(recipe, timesteps=1200, checkpoints_root=tmp_path / "two", workers=2)
    train_ars(recipe, timesteps=3000, checkpoints_root=tmp_path / "two", workers=2)
    one, two = _state(tmp_path / "one"), _state(tmp_path / "two")
    assert set(one) == {"weights", "obs_mean", "obs_var", "obs_count"}
    for name in one:
        np.testing.assert_array_equal(one[name], two[name])
    info = json.loads((tmp_path / "two" / "invertedpendulum" / "state.json").read_text())
    assert [s["from_timesteps"] for s in info["segments"]][0] == 0
    assert len(info["segments"]) == 2 and info["timesteps"] >= 3000
    best = json.loads((tmp_path / "two" / "invertedpendulum" / "best.json").read_text())
    assert best["export_check"]["max_abs_diff"] < 1e-4
    assert best["validation"]["episodes"] == 3
    linears = [layer for layer in best["spec"]["layers"] if layer["op"] == "linear"]
    assert len(linears) == len(net_arch) + 1


def test_ship_measures_the_best_checkpoint(tmp_path):
    from imitation_datasets.experts import CuratedExpert
    from imitation_zoo.ars_training import train_ars
    from imitation_zoo.shipping import ship

    recipe = _recipe()
    train_ars(recipe, timesteps=1500, checkpoints_root=tmp_path / "ck", workers=1)
    card = ship(recipe, timesteps=1500, out_dir=tmp_path / "zoo", checkpoints_root=tmp_path / "ck")
    assert card.algo == "ARS-numpy" and "default_rng" in card.training["resumable"]["rng"]
    expert = CuratedExpert.from_card_file(tmp_path / "zoo" / "invertedpendulum.json").load()
    assert expert.predict(np.zeros((2, 4), np.float32))[0].shape == (2, 1)


def test_unnormalised_policy_exports_without_obs_norm(tmp_path):
    from imitation_zoo.ars_training import train_ars

    recipe = dataclasses.replace(_recipe(), normalize=None)
    best = train_ars(recipe, timesteps=800, checkpoints_root=tmp_path, workers=1)
    assert "obs_norm" not in best["spec"] and best["export_check"]["max_abs_diff"] < 1e-4
    assert set(load_file(str(tmp_path / "invertedpendulum" / "best.safetensors"))) == {
        "fc0.weight"}


def test_running_statistics_match_numpy():
    rng = np.random.default_rng(0)
    data = [rng.normal(3.0, 2.0, size=(n, 5)) for n in (7, 30, 1)]
    stats = ObsStats(np.zeros(5), np.ones(5), 0.0)
    for batch in data:
        stats.update(batch.mean(0), batch.var(0), len(batch))
    allx = np.concatenate(data)
    np.testing.assert_allclose(stats.mean, allx.mean(0))
    np.testing.assert_allclose(stats.var, allx.var(0))


def test_bad_hyperparameters_are_named():
    with pytest.raises(ConfigError, match="hopper.yaml: hyperparameters: unknown key 'n_deltas'; "
                                          "did you mean n_delta"):
        ARSConfig.from_recipe({"n_deltas": 4, "n_top": 2, "learning_rate": 0.1,
                               "delta_std": 0.1}, "hopper.yaml")
    with pytest.raises(ConfigError, match="'n_top' must be int"):
        ARSConfig.from_recipe({"n_delta": 4, "n_top": 2.5, "learning_rate": 0.1,
                               "delta_std": 0.1})
    with pytest.raises(ConfigError, match="n_top <= n_delta"):
        ARSConfig.from_recipe({"n_delta": 2, "n_top": 4, "learning_rate": 0.1, "delta_std": 0.1})
    config = ARSConfig.from_recipe({"n_delta": 4, "n_top": 2, "learning_rate": 0.1,
                                    "delta_std": 0.1, "net_arch": [8, 8]})
    assert config.net_arch == (8, 8) and config.alive_bonus_offset == 0.0
