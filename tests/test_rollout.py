"""The batched episode runner records exactly what stepping the Gymnasium env would give."""

from __future__ import annotations

from functools import partial

import gymnasium as gym
import numpy as np

from imitation_datasets.core.rollout import fast_step, make_env, play


def _reference(env_id: str, seed: int, actions_from: np.ndarray, **kwargs) -> dict:
    """Step the fully wrapped env by hand with the actions the runner recorded."""
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=seed)
    rewards, observations = [], [obs]
    for action in actions_from:
        obs, reward, terminated, truncated, _ = env.step(action.item())
        rewards.append(reward)
        observations.append(obs)
        if terminated or truncated:
            break
    return {"obs": np.stack(observations), "rewards": np.asarray(rewards),
            "terminated": terminated, "truncated": truncated}


def test_time_limit_applied_like_gymnasium() -> None:
    """A short time limit truncates at exactly that many steps, as ``TimeLimit`` does."""
    env_fn = partial(make_env, "CartPole-v1", {"max_episode_steps": 7})
    episodes = play(env_fn, [3, 4, 5], n_envs=2, random_actions=True)
    for seed, episode in zip([3, 4, 5], episodes):
        ref = _reference("CartPole-v1", seed, episode.actions, max_episode_steps=7)
        assert episode.length == len(ref["rewards"]) <= 7
        assert (episode.truncated, episode.terminated) == (ref["truncated"], ref["terminated"])
        np.testing.assert_array_equal(episode.rewards, ref["rewards"])
        np.testing.assert_array_equal(episode.obs, ref["obs"][:-1])
        np.testing.assert_array_equal(episode.final_obs, ref["obs"][-1])
    assert any(e.truncated and e.length == 7 for e in episodes)


def test_fast_step_only_skips_bookkeeping_wrappers() -> None:
    """Plain ``gym.make`` envs step unwrapped; any other wrapper keeps the full ``step``."""
    env = make_env("CartPole-v1")
    step, limit = fast_step(env)
    assert step == env.unwrapped.step and limit == 500
    wrapped = gym.wrappers.ClipReward(make_env("CartPole-v1"), 0.0, 0.5)
    step, limit = fast_step(wrapped)
    assert step == wrapped.step and limit is None
    episode = play(lambda: gym.wrappers.ClipReward(make_env("CartPole-v1"), 0.0, 0.5), [0],
                   random_actions=True)[0]
    assert set(episode.rewards.tolist()) == {0.5}


def test_actions_that_do_not_fit_the_space_stop_the_rollout_at_once() -> None:
    """A wrong policy is not a bad episode: no retry, a one-line error naming shapes."""
    import pytest

    from imitation_datasets.core.rollout import ActionSpaceError
    from imitation_datasets.experts.policy import CallablePolicy

    wide = CallablePolicy(lambda o: np.zeros((len(o), 3), np.float32), "Pendulum-v1", name="wide")
    message = r"'wide' returned actions of shape \(2, 3\)"
    with pytest.raises(ActionSpaceError, match=message) as info:
        play(partial(make_env, "Pendulum-v1"), [0, 1], policy=wide, n_envs=2)
    assert "\n" not in str(info.value)


def test_available_seeds_do_not_depend_on_the_batch() -> None:
    """Seeds that fail are skipped for the next ones, the same way whatever ``n_envs``."""
    from imitation_datasets.core.rollout import play_available

    class Flaky(gym.Wrapper):
        def reset(self, *, seed=None, options=None):
            if seed is not None and seed % 4 == 1:
                raise RuntimeError("flaky")
            return self.env.reset(seed=seed, options=options)

    def env_fn():
        return Flaky(make_env("CartPole-v1"))

    results = [play_available(env_fn, list(range(30)), 10, n_envs=n, random_actions=True,
                              max_failures=10) for n in (1, 3, 16)]
    for episodes, failed in results:
        assert [e.seed for e in episodes] == [s for s in range(30) if s % 4 != 1][:10]
        assert failed == [1, 5, 9]  # 13 comes after the tenth good seed: never played
        assert [e.episode_return for e in episodes] == [
            e.episode_return for e in results[0][0]]
