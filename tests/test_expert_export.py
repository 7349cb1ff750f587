"""Exported networks reproduce SB3's deterministic actions (untrained tiny models, fast)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("torch")

import torch  # noqa: E402
from stable_baselines3 import DQN, PPO, SAC, TD3  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.vec_env import VecNormalize  # noqa: E402

from imitation_datasets.experts.network import ExpertNetwork  # noqa: E402
from imitation_zoo.export import (  # noqa: E402
    ExportedPolicy,
    ExportMismatchError,
    check_observations,
    export_sb3,
    verify_export,
)

torch.set_num_threads(1)


def small() -> dict:
    """Fresh policy kwargs (SB3 adds keys to the dict it is given)."""
    return {"net_arch": [16, 16]}


def _roundtrip(exported: ExportedPolicy, tmp_path) -> ExpertNetwork:
    from safetensors.numpy import load_file

    path = tmp_path / "weights.safetensors"
    exported.save(path)
    return ExpertNetwork(exported.spec, load_file(str(path)), exported.action_low,
                         exported.action_high)


def _perturb(model, scale: float = 0.5) -> None:
    """Spread the weights so untrained outputs are far from ties and from zero."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.policy.parameters():
            param.add_(torch.randn(param.shape, generator=gen) * scale)


def test_ppo_discrete(tmp_path):
    model = PPO("MlpPolicy", "CartPole-v1", policy_kwargs=small(), n_steps=64, seed=0, device="cpu")
    _perturb(model)
    exported = export_sb3(model)
    assert exported.spec["head"]["op"] == "argmax"
    assert exported.check["mismatches"] == 0
    obs = check_observations(model.observation_space, 300, seed=5)
    expected, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(_roundtrip(exported, tmp_path)(obs), expected)


def test_ppo_continuous_with_vecnormalize(tmp_path):
    venv = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    vecnorm = VecNormalize(venv, norm_obs=True, norm_reward=True, clip_obs=5.0)
    model = PPO("MlpPolicy", vecnorm, policy_kwargs=small(), n_steps=64, seed=0, device="cpu")
    vecnorm.reset()
    for _ in range(50):  # non-trivial running statistics
        vecnorm.step(np.stack([venv.action_space.sample() for _ in range(2)]))
    _perturb(model, 1.0)
    exported = export_sb3(model, vecnorm)
    assert exported.spec["head"]["op"] == "clip"
    assert exported.spec["obs_norm"] == {"epsilon": vecnorm.epsilon, "clip": 5.0}
    assert exported.check["max_abs_diff"] <= 1e-5
    obs = check_observations(model.observation_space, 300, seed=6, vec_normalize=vecnorm)
    expected, _ = model.predict(vecnorm.normalize_obs(obs), deterministic=True)
    got = _roundtrip(exported, tmp_path)(obs)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    assert np.any(got == venv.action_space.high) or np.any(got == venv.action_space.low)


def test_dqn(tmp_path):
    model = DQN("MlpPolicy", "Acrobot-v1", policy_kwargs=small(), learning_starts=0, seed=0,
                device="cpu")
    _perturb(model)
    exported = export_sb3(model)
    assert [layer["op"] for layer in exported.spec["layers"]] == [
        "linear", "relu", "linear", "relu", "linear"]
    obs = check_observations(model.observation_space, 300, seed=7)
    expected, _ = model.predict(obs, deterministic=True)
    np.testing.assert_array_equal(_roundtrip(exported, tmp_path)(obs), expected)


def test_qrdqn_folds_quantile_mean():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    model = sb3_contrib.QRDQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                              policy_kwargs={"net_arch": [16], "n_quantiles": 7})
    _perturb(model)
    exported = export_sb3(model)
    assert exported.tensors["fc1.weight"].shape == (2, 16)


@pytest.mark.parametrize("use_sde", [False, True])
def test_sac(tmp_path, use_sde):
    model = SAC("MlpPolicy", "MountainCarContinuous-v0", policy_kwargs=small(), use_sde=use_sde,
                learning_starts=0, seed=0, device="cpu")
    _perturb(model, 1.0)  # large means: the gSDE Hardtanh(-2, 2) clip is exercised
    exported = export_sb3(model)
    assert exported.spec["head"]["op"] == "tanh_scale"
    obs = check_observations(model.observation_space, 300, seed=8)
    expected, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(_roundtrip(exported, tmp_path)(obs), expected, atol=1e-5, rtol=0)


def test_td3():
    model = TD3("MlpPolicy", "Pendulum-v1", policy_kwargs=small(), learning_starts=0, seed=0,
                device="cpu")
    _perturb(model)
    assert export_sb3(model).spec["head"]["op"] == "tanh_scale"


@pytest.mark.parametrize("policy", ["LinearPolicy", "MlpPolicy"])
def test_ars(policy):
    sb3_contrib = pytest.importorskip("sb3_contrib")
    for env_id in ("MountainCarContinuous-v0", "CartPole-v1"):
        model = sb3_contrib.ARS(policy, env_id, seed=0, device="cpu")
        _perturb(model)
        export_sb3(model)


def test_mismatch_is_detected():
    model = PPO("MlpPolicy", "Pendulum-v1", policy_kwargs=small(), n_steps=64, seed=0, device="cpu")
    _perturb(model)
    exported = export_sb3(model, n_check=50)
    exported.tensors["fc2.bias"] = exported.tensors["fc2.bias"] + 0.1
    obs = check_observations(model.observation_space, 50)
    with pytest.raises(ExportMismatchError):
        verify_export(exported, model, obs)


def test_recipes_load_and_validation_seeds_are_held_out():
    from imitation_datasets.core.seeding import expert_eval_seeds
    from imitation_zoo.recipe import load_recipe, recipe_keys

    keys = recipe_keys()
    assert {"cartpole", "acrobot", "mountaincar", "lunarlander", "pendulum",
            "mountaincarcontinuous"} <= set(keys)
    card_seeds = set(expert_eval_seeds(100))
    for key in keys:
        recipe = load_recipe(key)
        assert recipe.key == key
        assert not card_seeds & set(recipe.validation_seeds())


def test_threshold_rule():
    from imitation_zoo.measure import threshold_from_returns

    assert threshold_from_returns(np.full(100, 500.0), 500.0) == 500.0
    returns = np.linspace(-120.0, -90.0, 100)
    assert threshold_from_returns(returns, -110.0) == np.floor(np.percentile(returns, 5))
    assert threshold_from_returns(np.full(100, 300.0), 240.0) == 240.0


def test_shipped_cards_come_from_recipes():
    from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
    from imitation_zoo.recipe import load_recipe

    for path in sorted(ZOO_DIR.glob("*.json")):
        expert = CuratedExpert.from_card_file(path).load()
        recipe = load_recipe(expert.card.key)
        assert expert.card.env_id == recipe.env_id
        assert expert.card.algo == recipe.algo
        assert expert.card.target == recipe.target
        # cards shipped before the tooling left the runtime package record its former module
        assert expert.card.training["recipe"].split()[:4] in (
            ["python", "-m", "imitation_zoo.train", recipe.key],
            ["python", "-m", "imitation_datasets.experts.recipes.train", recipe.key])
        assert expert.card.evaluation.command.endswith(f"evaluate {recipe.key}")


def test_recipe_action_noise_becomes_gaussian_noise():
    import dataclasses

    from stable_baselines3.common.noise import NormalActionNoise

    from imitation_zoo.recipe import load_recipe
    from imitation_zoo.sb3_setup import algorithm_kwargs

    env = make_vec_env("Pendulum-v1", n_envs=1)
    recipe = dataclasses.replace(load_recipe("pendulum"), algo="TD3",
                                 hyperparameters={"action_noise_std": 0.2})
    noise = algorithm_kwargs(recipe, env.action_space)["action_noise"]
    assert isinstance(noise, NormalActionNoise)
    np.testing.assert_allclose(noise._sigma, [0.2])
    with pytest.raises(ValueError, match="action space"):
        algorithm_kwargs(recipe)


def test_recipe_errors_are_one_line_and_name_the_closest_field(tmp_path):
    from imitation_zoo.recipe import RECIPES_DIR, RecipeError, load_recipe

    text = (RECIPES_DIR / "cartpole.yaml").read_text(encoding="utf-8")
    path = tmp_path / "cartpole.yaml"
    path.write_text(text.replace("eval_freq:", "eval_frequency:"), encoding="utf-8")
    with pytest.raises(RecipeError, match=r"cartpole.yaml: unknown key 'eval_frequency'; did you "
                                          r"mean eval_freq"):
        load_recipe(path)
    path.write_text(text.replace("n_envs: 8", "n_envs: eight"), encoding="utf-8")
    with pytest.raises(RecipeError, match="'n_envs' must be int, got 'eight'"):
        load_recipe(path)
    path.write_text(text.replace("n_envs: 8", "n_envs: 0"), encoding="utf-8")
    with pytest.raises(RecipeError, match="n_envs must be >= 1"):
        load_recipe(path)
    with pytest.raises(RecipeError, match="no recipe 'cartpol'"):
        load_recipe("cartpol")


def test_the_zoo_tooling_has_no_import_cycle_and_no_private_import():
    from pathlib import Path

    from test_architecture import _cycles, _imports, _owner

    import imitation_zoo

    root = Path(imitation_zoo.__file__).parent
    modules = {("imitation_zoo" if p.stem == "__init__" else f"imitation_zoo.{p.stem}"): p
               for p in root.glob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, imported in _imports(name, path, modules):
            if target.startswith("imitation_zoo"):
                assert not (imported or "").startswith("_"), f"{name} imports {target}.{imported}"
                owner = _owner(target, modules)
                if owner and owner != name:
                    graph[name].add(owner)
    assert _cycles(graph) == []


def test_validation_keeps_the_best_export_and_logs_every_one(tmp_path):
    """The one validate-and-keep-best loop: a worse policy is recorded but not kept."""
    import dataclasses
    import json

    from safetensors.numpy import load_file

    from imitation_datasets.experts import Experts
    from imitation_zoo.recipe import load_recipe
    from imitation_zoo.selection import BestCheckpoint

    expert = Experts.get_expert("cartpole")
    recipe = dataclasses.replace(load_recipe("cartpole"), eval_episodes=2, stop_at=400.0)
    tensors = load_file(str(expert.weights_path))
    good = ExportedPolicy(expert.card.network, tensors, check={"observations": 0})
    worse = ExportedPolicy(expert.card.network, {k: np.zeros_like(v) for k, v in tensors.items()})
    keeper = BestCheckpoint(recipe, tmp_path, "d" * 64, {"command": "test"})
    first = keeper.validate(100, good)
    second = keeper.validate(200, worse)
    assert first.improved and first.mean == 500.0 and keeper.stop_reached(first.mean)
    assert not second.improved and second.mean < first.mean
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["timesteps"] == 100 and best["validation"]["episodes"] == 2
    assert best["validation"]["seed_start"] == recipe.validation_seeds()[0]
    rows = (tmp_path / "progress.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[2].split(",")[:2] == ["200", f"{second.mean:.3f}"]


@pytest.mark.parametrize("module, argv, message", [
    ("train", ["cartpol"], "argument KEY: no recipe 'cartpol'; did you mean cartpole?"),
    ("train", ["cartpole", "--timesteps", "0"], "timesteps must be positive, got 0"),
    ("train", ["cartpole", "--workers", "two"], "argument --workers: invalid int value"),
    ("evaluate", ["cartpol"], "no card for ['cartpol']"),
])
def test_tooling_commands_refuse_bad_arguments_in_one_line(capsys, module, argv, message):
    import importlib

    main = importlib.import_module(f"imitation_zoo.{module}").main
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"python -m imitation_zoo.{module}: error: ") and message in err
