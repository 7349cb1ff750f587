"""The off-policy methods' data: a seeded replay buffer and one environment stepped by hand.

* :class:`ReplayBuffer` — a ring buffer of ``(s, a, r, s', done)`` with seeded sampling;
  :func:`balanced_batch` draws half a batch from each of two buffers (SQIL's and IQ-Learn's
  expert/agent batches); :func:`expert_dones` aligns the expert's ``terminated`` flags with its
  transitions.
* :class:`EnvLoop` — one environment stepped by hand (the off-policy loop needs a gradient step
  after every environment step, which :class:`~.interaction.Interaction`'s whole-episode play does
  not give). It follows the interaction service's rules: episode ``k`` of the run is reset with
  ``episode_seed(interaction_seed, k, 0)`` (``k`` is the service's ``episodes_played``) and every
  step is counted through ``Interaction.count``; a Box2D-style environment that does not reset
  completely is re-made for every episode (as :mod:`imitation_datasets.core.rollout` does).

``done`` is Gymnasium's ``terminated`` only: a time-limit truncation bootstraps.

Both can be saved and restored for a resumed run (:mod:`.resume`): the buffer as its rows, the
environment as its episode's index and the actions played since its reset, replayed on restore
(the observation reached must be the saved one, bit for bit, or the restore is refused).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from imitation_datasets.core.rollout import make_env, resets_completely
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.methods.episode_tape import EpisodeTape, replay_episode
from imitation_datasets.methods.interaction import Interaction
from imitation_datasets.methods.networks import ActionModel
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    expect,
    expect_tensor,
)


class ReplayBuffer:
    """A ring buffer of transitions ``(s, a, r, s', done)``; sampling is uniform and seeded.

    Actions are stored as the learner uses them: class indices (int64) or scaled floats.
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, discrete: bool) -> None:
        self.capacity = int(capacity)
        self.obs = torch.zeros((capacity, obs_dim))
        self.next_obs = torch.zeros((capacity, obs_dim))
        self.actions = torch.zeros(capacity, dtype=torch.long) if discrete \
            else torch.zeros((capacity, action_dim))
        self.rewards = torch.zeros(capacity)
        self.dones = torch.zeros(capacity)
        self.size = 0
        self.position = 0

    @classmethod
    def of(cls, obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
           next_obs: torch.Tensor, dones: torch.Tensor) -> ReplayBuffer:
        """A buffer holding exactly these transitions (the expert's, for instance)."""
        buffer = cls(len(obs), obs.shape[1], 1 if actions.ndim == 1 else actions.shape[1],
                     discrete=actions.ndim == 1)
        buffer.add(obs, actions, rewards, next_obs, dones)
        return buffer

    def __len__(self) -> int:
        return self.size

    def add(self, obs: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor,
            next_obs: torch.Tensor, dones: torch.Tensor) -> None:
        """Append rows (the oldest are overwritten when full)."""
        n = len(obs)
        keep = slice(max(n - self.capacity, 0), n)  # rows that survive this very call
        index = ((self.position + torch.arange(n)) % self.capacity)[keep]
        self.obs[index], self.actions[index] = obs[keep], actions[keep]
        self.rewards[index], self.next_obs[index] = rewards[keep], next_obs[keep]
        self.dones[index] = dones[keep]
        self.position = (self.position + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        """``n`` transitions drawn uniformly with replacement: ``(s, a, r, s', done)``."""
        index = torch.randint(0, self.size, (n,), generator=generator)
        return (self.obs[index], self.actions[index], self.rewards[index],
                self.next_obs[index], self.dones[index])

    _COLUMNS = ("obs", "actions", "rewards", "next_obs", "dones")

    def state(self) -> dict[str, Any]:
        """The rows held and the write position (for a resumed run)."""
        rows = {name: getattr(self, name)[:self.size] for name in self._COLUMNS}
        return {**rows, "size": self.size, "position": self.position}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Load :meth:`state`'s rows (checked against this buffer's capacity and widths)."""
        size = expect(state, "size", int, where)
        position = expect(state, "position", int, where)
        if not 0 <= size <= self.capacity or not 0 <= position < self.capacity \
                or (size < self.capacity and position != size):
            raise TrainingStateError(f"{where}: replay buffer of {size} rows at position "
                                     f"{position} does not fit its capacity {self.capacity}")
        for name in self._COLUMNS:
            column = getattr(self, name)
            column[:size] = expect_tensor(state, name, column[:size], where)
        self.size, self.position = size, position


def balanced_batch(demo: ReplayBuffer, samp: ReplayBuffer, batch_size: int,
                   generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """``batch_size // 2`` transitions of D_demo then as many of D_samp, as one batch."""
    half = max(batch_size // 2, 1)
    first = demo.sample(half, generator)
    second = samp.sample(half, generator)
    return tuple(torch.cat([x, y]) for x, y in zip(first, second, strict=True))


def expert_dones(data: DatasetArrays) -> torch.Tensor:
    """``terminated`` of the expert's transitions, aligned with ``_data.transitions``."""
    terminated = np.asarray(data.terminated, dtype=np.float32)
    if data.final_obs is None:  # the last step of each episode has no s' and is left out
        keep = np.ones(len(terminated), bool)
        keep[np.cumsum(data.lengths) - 1] = False
        terminated = terminated[keep]
    return torch.from_numpy(terminated)


class EnvLoop:
    """One environment stepped one transition at a time (see the module docstring)."""

    def __init__(self, interaction: Interaction, actor: ActionModel) -> None:
        self.interaction = interaction
        self.actor = actor
        self.env: gym.Env | None = None
        self.obs: np.ndarray | None = None
        self.episode_return = 0.0
        self.returns: list[float] = []
        self.tape = EpisodeTape()

    def _reset(self) -> np.ndarray:
        service = self.interaction
        if self.env is None or not resets_completely(self.env):
            if self.env is not None:
                self.env.close()
            self.env = make_env(service.env_id, service.env_kwargs)
        seed = episode_seed(service.interaction_seed, service.episodes_played, 0)
        self.tape.start(service.episodes_played)
        service.episodes_played += 1
        obs, _ = self.env.reset(seed=seed)
        self.episode_return = 0.0
        return np.asarray(obs, np.float32).reshape(-1)

    def step(self, act: Any) -> tuple[torch.Tensor, ...]:
        """Play one step with ``act(obs_row) -> action (learner units)``; count it.

        Returns ``(s, a, s', done)`` as one-row tensors (``done``: terminated).
        """
        if self.obs is None:
            self.obs = self._reset()
        assert self.env is not None
        s = torch.from_numpy(self.obs).unsqueeze(0)
        a = act(s)
        env_action: Any = self.actor.decode(a)[0].numpy()
        if self.actor.discrete:
            env_action = int(env_action)
        obs, reward, terminated, truncated, _ = self.env.step(env_action)
        self.tape.record(env_action)
        self.interaction.count(1)
        self.episode_return += float(reward)
        next_obs = np.asarray(obs, np.float32).reshape(-1)
        s_next = torch.from_numpy(next_obs).unsqueeze(0)
        if terminated or truncated:
            self.returns.append(self.episode_return)
            self.obs = None
        else:
            self.obs = next_obs
        return s, a, s_next, torch.tensor([float(terminated)])

    def state(self) -> dict[str, Any]:
        """The episode in progress (:mod:`.episode_tape`) and the finished episodes' returns."""
        episode = None if self.obs is None else self.tape.state(self.obs)
        return {"episode": episode, "episode_return": self.episode_return,
                "returns": list(self.returns)}

    def restore(self, state: dict[str, Any], where: str) -> None:
        """Re-play the saved episode's actions from its reset; the observation must match."""
        self.close()
        self.returns = [float(r) for r in expect(state, "returns", list, where)]
        episode = state.get("episode")
        self.obs = None
        if episode is None:  # the last episode had just ended: the next step resets
            return
        if not isinstance(episode, dict):
            raise TrainingStateError(f"{where}: the episode in progress is malformed")
        service = self.interaction
        self.env = make_env(service.env_id, service.env_kwargs)
        self.obs, self.episode_return = replay_episode(
            episode, self.env, self.env.step, service.interaction_seed, self.actor.discrete,
            self.tape, where)
        if self.episode_return != expect(state, "episode_return", float, where):
            raise TrainingStateError(f"{where}: re-playing the saved episode gave another "
                                     f"return (the environment is not the one that was saved)")

    def close(self) -> None:
        """Close the environment."""
        if self.env is not None:
            self.env.close()
            self.env = None
