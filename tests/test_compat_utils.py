"""IL-Datasets 1.0.0's utils, args and register modules, as a 1.0.0 script uses them."""

import asyncio
import multiprocessing

import gymnasium as gym
import numpy as np
import pytest

from imitation_datasets import register
from imitation_datasets.args import get_args
from imitation_datasets.experts import Experts
from imitation_datasets.utils import CPUS, Context, Experiment, GymWrapper, WrapperException


# ------------------------------------------------------------------ Experiment / Context
def test_experiment_starts_its_log_afresh_and_writes_logs_to_its_own_path(tmp_path):
    path = tmp_path / "logs.txt"
    path.write_text("old run\n")
    experiment = Experiment(3, str(path))
    assert path.read_text() == "#### Starting dataset creation ####\n"
    context = Context(experiment, 2)
    context.add_log("Accumulated reward 500.0")
    experiment.add_log(0, "first")
    experiment.write_log()
    text = path.read_text()
    assert "Experiment 2: Accumulated reward 500.0" in text and "Experiment 0: first" in text
    assert text.startswith("#### Starting")


def test_experiment_counts_episodes_left_and_owes_failed_ones_again(tmp_path):
    experiment = Experiment(2, str(tmp_path / "l.txt"))

    async def scenario():
        assert await experiment.start() == (True, 1)
        assert await experiment.start() == (True, 0)
        assert experiment.is_done()
        assert await experiment.start() == (False, -1)
        await experiment.stop(False)  # a failed episode is owed again
        assert experiment.amount == 1 and experiment.waiting == 1
        await experiment.stop(True)
        assert experiment.amount == 1 and experiment.waiting == 0

    asyncio.run(scenario())


# ------------------------------------------------------------------ CPUS
def test_cpus_is_capped_one_below_the_cpu_count_and_shared_while_referenced():
    CPUS.reset()
    cpus = CPUS(50)
    assert cpus.available_cpus == max(1, multiprocessing.cpu_count() - 1)
    assert CPUS(1) is cpus  # the singleton, whatever the argument
    CPUS.reset()


def test_cpus_allocates_distinct_slots_and_release_is_idempotent():
    CPUS.reset()
    cpus = CPUS(4)
    total = cpus.available_cpus

    async def scenario():
        first = await cpus.cpu_allock()
        assert isinstance(first, int) and cpus.cpus[first]
        if total > 1:
            second = await cpus.cpu_allock()
            assert second != first
            cpus.cpu_release(second)
        cpus.cpu_release(first)
        assert not cpus.cpus[first]
        assert cpus.cpu_release(first) is None  # releasing a free slot does nothing
        assert cpus.cpu_semaphore._value == total

    asyncio.run(scenario())
    CPUS.reset()


# ------------------------------------------------------------------ GymWrapper
def test_gym_wrapper_newest_api_gives_obs_and_four_tuple_steps():
    env = GymWrapper(gym.make("CartPole-v1", render_mode="rgb_array"))
    assert env.action_space == gym.spaces.Discrete(2) and env.observation_space.shape == (4,)
    first = env.reset(seed=3)
    again = env.reset(seed=3)
    assert isinstance(first, np.ndarray) and isinstance(first[0], np.float32)
    np.testing.assert_array_equal(first, again)
    result = env.step(env.action_space.sample())
    assert len(result) == 4 and isinstance(result[2], bool)
    assert env.render().shape == (400, 600, 3)
    assert env.spec.id == "CartPole-v1"
    env.close()


def test_gym_wrapper_done_is_terminated_or_truncated():
    env = GymWrapper(gym.make("CartPole-v1", max_episode_steps=5))  # truncated at step 5
    env.reset(seed=0)
    assert [env.step(0)[2] for _ in range(5)] == [False] * 4 + [True]
    env.close()
    env = GymWrapper(gym.make("CartPole-v1"))
    env.reset(seed=0)
    steps = 1
    while not env.step(0)[2]:  # pushing one way: the pole falls (terminated) long before 500
        steps += 1
    assert steps < 50
    env.close()


def test_gym_wrapper_refuses_wrong_versions_and_renders_without_mode():
    env = gym.make("CartPole-v1")
    with pytest.raises(WrapperException):
        GymWrapper(env, version="older")
    with pytest.raises(ValueError, match="newest"):
        GymWrapper(env, version="newer")
    wrapper = GymWrapper(env)
    wrapper.reset()
    with pytest.raises(WrapperException, match="render_mode"):
        wrapper.render()
    # a discrete-observation env follows the newest API too (1.0.0 refused it)
    assert isinstance(GymWrapper(gym.make("FrozenLake-v1")).reset(seed=0), int)


def test_gym_wrapper_set_seed_seeds_numpy_torch_and_random():
    import random

    import torch

    wrapper = GymWrapper(gym.make("CartPole-v1"))
    wrapper.set_seed(7)
    a = (np.random.rand(), torch.rand(1).item(), random.random())
    wrapper.set_seed(7)
    assert a == (np.random.rand(), torch.rand(1).item(), random.random())


# ------------------------------------------------------------------ args / register
def test_get_args_has_the_original_flags_and_defaults():
    opt = get_args(["-g", "cartpole"])
    assert (opt.game, opt.episodes, opt.threads, opt.threshold, opt.mode) == (
        "cartpole", 10, 1, None, "play")
    opt = get_args(["--game", "acrobot", "-e", "5", "-t", "2", "--threshold", "-90",
                    "--mode", "all"])
    assert (opt.episodes, opt.threads, opt.threshold, opt.mode) == (5, 2, -90.0, "all")
    with pytest.raises(SystemExit):
        get_args(["-g", "cartpole", "--mode", "sometimes"])
    with pytest.raises(SystemExit):
        get_args([])


def test_register_maps_the_original_keys_to_curated_experts():
    assert set(register.classic) == {"cartpole", "mountaincar", "acrobot"}
    assert set(register.mujoco) == {"ant", "ant-1", "walker", "swimmer", "cheetah", "hopper",
                                    "humanoid"}
    assert register.atari == {}
    for entries in (register.classic, register.mujoco):
        for key, value in entries.items():
            assert {"name", "repo_id", "filename", "threshold", "algo"} <= set(value)
            assert isinstance(value["threshold"], float) and isinstance(value["name"], str)
            assert value["expert"] is Experts.get_expert(key)
            assert value["threshold"] == Experts.get_expert(key).threshold
    assert register.classic["cartpole"]["name"] == "CartPole-v1"
    assert register.mujoco["ant-1"]["expert"] is Experts.get_expert("ant")
    assert Experts.get_expert("ant-1") is Experts.get_expert("ant")


def test_the_original_ant_1_key_resolves_without_importing_register():
    import subprocess
    import sys

    code = ("import sys; from imitation_datasets.experts import Experts; "
            "assert 'imitation_datasets.register' not in sys.modules; "
            "print(Experts.get_expert('ant-1').key)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == "ant", done.stderr
