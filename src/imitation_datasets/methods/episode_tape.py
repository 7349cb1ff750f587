"""One training environment's episode in progress, recorded so that a resumed run can re-play it.

An environment's state mid-episode (a MuJoCo simulation, a Box2D world) is not saved: what is
saved is the episode's index in the run (its reset seed is
``episode_seed(interaction_seed, episode, 0)``) and the actions played since that reset, exactly
as the environment got them. :func:`replay_episode` resets a fresh environment with that seed
and plays those actions again; the simulators are deterministic, so it reaches the same state,
and the caller checks that the observation reached is the saved one, bit for bit
(:func:`check_reached`). A saved episode has at most an episode's length of actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.methods.training_state import TrainingStateError, expect, expect_tensor


class EpisodeTape:
    """The episode an environment is playing: its index and the actions since its reset."""

    def __init__(self) -> None:
        self.episode = -1
        self.actions: list[Any] = []

    def start(self, episode: int) -> None:
        """A new episode (its index in the run) begins."""
        self.episode = int(episode)
        self.actions = []

    def record(self, action: Any) -> None:
        """The environment was stepped with ``action``."""
        self.actions.append(np.array(action, copy=True))

    def state(self, obs: np.ndarray) -> dict[str, Any]:
        """The tape and the observation the episode has reached (for a resumed run)."""
        actions = torch.from_numpy(np.stack(self.actions)) if self.actions else None
        return {"episode": self.episode, "actions": actions,
                "obs": torch.from_numpy(np.array(obs, np.float32).reshape(-1))}


def replay_episode(state: dict[str, Any], env: gym.Env, step: Callable[[Any], tuple],
                   interaction_seed: int, discrete: bool, tape: EpisodeTape,
                   where: str) -> tuple[np.ndarray, float]:
    """Reset ``env`` for the saved episode and play its actions with ``step``; fill ``tape``.

    Returns:
        The observation reached (float32 row, checked against the saved one) and the reward
        summed over the re-played steps.

    Raises:
        TrainingStateError: malformed entries, an episode that ends while re-played, or a
            state other than the saved one.
    """
    episode = expect(state, "episode", int, where)
    if episode < 0:
        raise TrainingStateError(f"{where}: an episode in progress with index {episode}")
    actions = state.get("actions")
    if actions is not None and not isinstance(actions, torch.Tensor):
        raise TrainingStateError(f"{where}: the episode's actions are malformed")
    obs, _ = env.reset(seed=episode_seed(interaction_seed, episode, 0))
    tape.start(episode)
    total = 0.0
    for action in [] if actions is None else actions:
        value: Any = int(action) if discrete else action.numpy()
        obs, reward, terminated, truncated, _ = step(value)
        tape.record(value)
        total += float(reward)
        if terminated or truncated:
            raise TrainingStateError(f"{where}: the saved episode ended while re-playing it")
    reached = np.asarray(obs, np.float32).reshape(-1)
    check_reached(state, reached, where)
    return reached, total


def check_reached(state: dict[str, Any], reached: np.ndarray, where: str) -> None:
    """Refuse unless ``reached`` is the observation the state saved, bit for bit."""
    saved = expect_tensor(state, "obs", torch.from_numpy(reached), where)
    if not np.array_equal(saved.numpy().view(np.uint32), reached.view(np.uint32)):
        raise TrainingStateError(f"{where}: re-playing the saved episode reached another state "
                                 f"(the environment is not the one that was saved)")
