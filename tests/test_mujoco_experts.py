"""Curated MuJoCo and Box2D experts (issue 5): registry, cards, spaces, short seeded rollouts,
and the resumable (committed, pickle-free) training state of their recipes.

Every test is fast (short truncated rollouts); full 100-episode measurements belong to
``python -m imitation_zoo.evaluate KEY``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json

import gymnasium as gym
import numpy as np
import pytest

from imitation_datasets.experts import CuratedExpert, ExpertCard, Experts
from imitation_datasets.experts.curated import ZOO_DIR
from imitation_zoo.recipe import CHECKPOINTS_DIR, load_recipe, recipe_keys

HAS_MUJOCO = importlib.util.find_spec("mujoco") is not None
HAS_BOX2D = importlib.util.find_spec("Box2D") is not None

# key -> (Gymnasium id, target, original IL-Datasets / extra names that must resolve to it)
EXPERTS = {
    "hopper": ("Hopper-v5", 3000, ["hopper"]),
    "cheetah": ("HalfCheetah-v5", 5000, ["cheetah", "halfcheetah"]),
    "walker": ("Walker2d-v5", 4000, ["walker", "walker2d"]),
    "ant": ("Ant-v5", 3000, ["ant"]),
    "swimmer": ("Swimmer-v5", 340, ["swimmer"]),
    "humanoid": ("Humanoid-v5", 5000, ["humanoid"]),
    "invertedpendulum": ("InvertedPendulum-v5", 1000, ["invertedpendulum"]),
    "inverteddoublependulum": ("InvertedDoublePendulum-v5", 9000, ["inverted_double_pendulum"]),
    "reacher": ("Reacher-v5", -5, ["reacher"]),
    "bipedalwalker": ("BipedalWalker-v3", 250, ["bipedal_walker"]),
    "lunarlandercontinuous": ("LunarLanderContinuous-v3", 250, ["lunarlander_continuous"]),
}
BOX2D = {"bipedalwalker", "lunarlandercontinuous"}
SHIPPED = sorted(key for key in EXPERTS if (ZOO_DIR / f"{key}.json").is_file())
ROLLOUT_STEPS = 300
"""Rollouts of the tests are truncated to this many steps (Reacher's episodes are 50)."""


def _needs_simulator(key: str) -> None:
    if key in BOX2D:
        if not HAS_BOX2D:
            pytest.skip("box2d is not installed")
    elif not HAS_MUJOCO:
        pytest.skip("mujoco is not installed")


def _truncated_returns(policy, env_id: str, env_kwargs: dict, seeds: list[int]) -> np.ndarray:
    """Returns of episodes cut at ``ROLLOUT_STEPS``; ``policy=None`` acts at random (seeded)."""
    returns = []
    for seed in seeds:
        env = gym.make(env_id, max_episode_steps=ROLLOUT_STEPS, **env_kwargs)
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            action = env.action_space.sample() if policy is None else policy.predict(obs)[0]
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        env.close()
        returns.append(total)
    return np.array(returns)


def test_every_expert_has_a_recipe_with_its_env_and_target():
    for key, (env_id, target, _) in EXPERTS.items():
        assert key in recipe_keys()
        recipe = load_recipe(key)
        assert (recipe.env_id, recipe.target) == (env_id, target)
        # long trainings resume across sessions from committed state; the others fit in one run
        assert recipe.resumable or recipe.total_timesteps <= 5_000_000, key


@pytest.mark.parametrize("key", SHIPPED)
def test_registered_by_key_gym_id_and_original_names(key):
    env_id, _, names = EXPERTS[key]
    expert = Experts.get_expert(key)
    assert isinstance(expert, CuratedExpert) and expert.env_id == env_id
    for name in [env_id, *names]:
        assert Experts.get_expert(name) is expert, name
    # the discrete LunarLander expert keeps its Gymnasium id
    if key == "lunarlandercontinuous":
        assert Experts.get_expert("LunarLander-v3").card.key == "lunarlander"


@pytest.mark.parametrize("key", SHIPPED)
def test_card_validates_and_is_honest(key):
    path = ZOO_DIR / f"{key}.json"
    card = ExpertCard.from_file(path)  # validates (quality vs measured mean, sha256 format)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert card.key == key and card.evaluation.episodes == 100
    assert card.target == EXPERTS[key][1]
    assert (card.quality == "meets_target") == (card.evaluation.return_mean >= card.target)
    # threshold rule: min(target, floor(5th percentile)) -- never above the target nor the mean
    assert card.threshold <= card.target and card.threshold <= card.evaluation.return_mean
    # either capped at the target (the expert's 5th percentile is above it) or its own percentile
    assert card.threshold == card.target or card.threshold >= card.evaluation.return_min - 1
    if card.quality == "below_target":
        assert "BELOW TARGET" in card.threshold_rule
    if load_recipe(key).resumable:
        assert raw["training"]["resumable"]["checkpoint_folder"].endswith(f"checkpoints/{key}")
    else:  # one uninterrupted run: its full budget was trained
        assert raw["training"]["trained_timesteps"] >= raw["training"]["total_timesteps"]
    # cards shipped before the tooling left the runtime package record its former module
    assert raw["training"]["recipe"].split()[:4] in (
        ["python", "-m", "imitation_zoo.train", key],
        ["python", "-m", "imitation_datasets.experts.recipes.train", key])


@pytest.mark.parametrize("key", SHIPPED)
def test_spaces_match_the_env(key):
    _needs_simulator(key)
    expert = Experts.get_expert(key).load()
    card = expert.card
    env = gym.make(card.env_id, **card.env_kwargs)
    obs_space, act_space = env.observation_space, env.action_space
    assert isinstance(act_space, gym.spaces.Box)
    network = expert._network
    assert network.input_dim == obs_space.shape[0]
    assert network.output_dim == act_space.shape[0]
    np.testing.assert_array_equal(np.asarray(card.action_low, np.float32), act_space.low)
    np.testing.assert_array_equal(np.asarray(card.action_high, np.float32), act_space.high)
    obs, _ = env.reset(seed=0)
    action = expert.predict(obs)[0]
    assert action.shape == act_space.shape and act_space.contains(action.astype(act_space.dtype))
    batch = np.stack([obs_space.sample() for _ in range(33)]).astype(np.float32)
    actions = expert.predict(batch)[0]
    assert actions.shape == (33, *act_space.shape)
    assert np.all(actions >= act_space.low) and np.all(actions <= act_space.high)
    env.close()


@pytest.mark.parametrize("key", SHIPPED)
def test_short_seeded_rollout_beats_random(key):
    """Two card-seed episodes cut at ROLLOUT_STEPS: the expert beats seeded random actions."""
    _needs_simulator(key)
    expert = Experts.get_expert(key)
    card = expert.card
    seeds = [card.evaluation.seed_start, card.evaluation.seed_start + 1]
    ours = _truncated_returns(expert, card.env_id, card.env_kwargs, seeds)
    rand = _truncated_returns(None, card.env_id, card.env_kwargs, seeds)
    assert np.all(np.isfinite(ours))
    assert ours.mean() > rand.mean(), (ours, rand)
    again = _truncated_returns(expert, card.env_id, card.env_kwargs, seeds)
    np.testing.assert_array_equal(ours, again)  # seeded and deterministic


@pytest.mark.parametrize("key", sorted(p.parent.name for p in CHECKPOINTS_DIR.glob("*/state.json")))
def test_committed_training_state_is_pickle_free_and_matches_its_recipe(key):
    from safetensors.numpy import load_file

    from imitation_zoo.checkpoint import best_matches, state_matches

    folder = CHECKPOINTS_DIR / key
    names = {p.name for p in folder.iterdir()}
    assert not {n for n in names if n.endswith((".zip", ".pkl", ".pickle", ".pt"))}
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    recipe = load_recipe(key)
    assert state_matches(recipe, recipe.total_timesteps, state)
    assert state["timesteps"] > 0 and state["n_updates"] > 0 and state["segments"]
    tensors = load_file(str(folder / "state.safetensors"))
    assert tensors["weights"].ndim in (1, 2) and np.all(np.isfinite(tensors["weights"]))
    if recipe.normalize:
        assert tensors["obs_mean"].shape == tensors["obs_var"].shape
        assert np.all(tensors["obs_var"] >= 0)
    if (folder / "best.json").is_file():  # absent until the first validation
        best = json.loads((folder / "best.json").read_text(encoding="utf-8"))
        assert best_matches(recipe, recipe.total_timesteps, best)
        load_file(str(folder / "best.safetensors"))
    assert len(state["state_sha256"]) == 64  # train warns (and resumes) when they differ


def test_resumable_training_continues_from_the_saved_state(tmp_path):
    """Two short segments of a real recipe in a temporary folder: steps and segments add up."""
    pytest.importorskip("sb3_contrib")
    _needs_simulator("invertedpendulum")
    from imitation_zoo.sb3_training import train
    from imitation_zoo.shipping import already_shipped, ship

    recipe = load_recipe("invertedpendulum")
    ckpt, zoo = tmp_path / "ckpt", tmp_path / "zoo"
    train(recipe, timesteps=1000, checkpoints_root=ckpt)
    first = json.loads((ckpt / "invertedpendulum" / "state.json").read_text(encoding="utf-8"))
    assert first["timesteps"] >= 1000 and len(first["segments"]) == 1
    budget = first["timesteps"] + 2000
    train(recipe, timesteps=budget, checkpoints_root=ckpt)
    second = json.loads((ckpt / "invertedpendulum" / "state.json").read_text(encoding="utf-8"))
    assert second["timesteps"] >= budget and second["n_updates"] > first["n_updates"]
    assert [s["from_timesteps"] for s in second["segments"]] == [0, first["timesteps"]]
    assert second["segments"][1]["seed"] == recipe.seed + first["n_updates"]
    assert not list((ckpt / "invertedpendulum").glob("*.zip"))
    card = ship(recipe, timesteps=budget, out_dir=zoo, checkpoints_root=ckpt)
    assert card.training["resumable"]["n_updates"] == second["n_updates"]
    assert card.training["total_timesteps"] >= second["timesteps"]
    assert already_shipped(ckpt / "invertedpendulum", zoo / "invertedpendulum.json")
    CuratedExpert.from_card_file(zoo / "invertedpendulum.json").load()

    # selection-only fields may change: the state is kept, the best checkpoint re-validated
    stricter = dataclasses.replace(recipe, eval_episodes=5)
    train(stricter, timesteps=budget + 1000, checkpoints_root=ckpt)
    third = json.loads((ckpt / "invertedpendulum" / "state.json").read_text(encoding="utf-8"))
    assert len(third["segments"]) == 3 and third["timesteps"] >= budget + 1000
    best = json.loads((ckpt / "invertedpendulum" / "best.json").read_text(encoding="utf-8"))
    assert best["validation"]["episodes"] == 5 and best["timesteps"] > second["timesteps"]


def test_paper_snippet_with_walker(tmp_path):
    """``Controller(...).start({"game": "walker", "mode": "all"})`` (the paper's headline example,
    at smoke scale): the dataset's metadata names the expert, its measured return and the seeds."""
    _needs_simulator("walker")
    from imitation_datasets.controller import Controller
    from imitation_datasets.data.metadata import read_metadata
    from imitation_datasets.functions import baseline_collate, baseline_enjoy

    out = Controller(baseline_enjoy, baseline_collate, episodes=4, threads=4, path=tmp_path,
                     progress=False).start({"game": "walker", "mode": "all"})
    meta = read_metadata(out)
    card = Experts.get_expert("walker").card
    assert meta["env"]["id"] == "Walker2d-v5"
    assert meta["expert"]["id"] == "walker"
    assert meta["expert"]["return_mean"] == card.evaluation.return_mean
    assert meta["expert"]["weights_sha256"] == card.weights_sha256
    assert meta["episodes"]["count"] == 4 and len(set(meta["episodes"]["seed"])) == 4
    assert min(meta["episodes"]["return"]) >= card.threshold
