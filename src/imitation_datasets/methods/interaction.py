"""Environment play during training: seeded episodes, explicit ``deterministic``, a step count.

The BCO family interacts with the environment while it trains (random pre-demonstration steps,
the agent's own post-demonstration episodes). :class:`Interaction` is the one place that does it,
through :func:`~imitation_datasets.core.rollout.play`: episode ``k`` of a training run is reset
with ``episode_seed(interaction_seed, k, 0)``, so a run is reproducible from its task; every
transition played (or read from the task's random episodes) is counted in ``env_steps``.
Validation episodes are played by model selection, not here, and are not counted.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import torch

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.rollout import make_env, play
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.methods._data import transitions

Transitions = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""``(s, a, s')``: observations flattened to float32 rows, actions as the data holds them."""

N_ENVS = 16
"""Environments stepped together while playing (results do not depend on it)."""

FIRST_ROUND = 16
"""Episodes :meth:`Interaction.play_steps` plays before it knows the mean episode length."""


class Interaction:
    """The training run's environment: plays seeded episodes and counts their steps.

    Args:
        env_id: Gymnasium id.
        env_kwargs: extra ``gym.make`` arguments.
        interaction_seed: base of the episode seeds (see the module docstring).
        empty: the transitions returned when no step is asked for (they give the dtypes and
            widths of an empty result).
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], interaction_seed: int,
                 empty: Transitions) -> None:
        self.env_id = env_id
        self.env_kwargs = env_kwargs
        self.interaction_seed = int(interaction_seed)
        self.empty = empty
        self.env_steps = 0
        self.episodes_played = 0

    def count(self, steps: int) -> None:
        """Count ``steps`` transitions taken from recorded interaction (the task's random data)."""
        self.env_steps += int(steps)

    def play_episodes(self, count: int, policy: Any | None,
                      deterministic: bool = True) -> list[Episode]:
        """Play ``count`` training episodes.

        Args:
            count: episodes to play.
            policy: anything with ``predict(obs_batch, deterministic)``; ``None`` plays uniformly
                random actions seeded with each episode's seed.
            deterministic: the policy's most likely actions (``True``) or actions sampled from
                its distribution (``False``, IUPE's exploration).
        """
        first = self.episodes_played
        seeds = [episode_seed(self.interaction_seed, first + k, 0) for k in range(count)]
        self.episodes_played += count
        episodes = play(partial(make_env, self.env_id, self.env_kwargs), seeds, policy=policy,
                        n_envs=N_ENVS, random_actions=policy is None, deterministic=deterministic)
        self.env_steps += sum(e.length for e in episodes)
        return episodes

    def play_steps(self, steps: int, policy: Any | None,
                   deterministic: bool = True) -> Transitions:
        """Play whole episodes until ``steps`` transitions are collected.

        Returns exactly ``steps`` transitions ``(s, a, s')`` (the last episode may be cut); all
        the steps played are counted. Arguments as in :meth:`play_episodes`.
        """
        episodes: list[Episode] = []
        collected = 0
        while collected < steps:
            mean_length = collected / len(episodes) if episodes else None
            need = FIRST_ROUND if mean_length is None else \
                int(np.clip(math.ceil((steps - collected) / max(mean_length, 1.0)), 1, 256))
            new = self.play_episodes(need, policy, deterministic)
            episodes += new
            collected += sum(e.length for e in new)
        if not episodes:
            return self.empty
        s, a, s_next = transitions_of(episodes)
        return s[:steps], a[:steps], s_next[:steps]


def transitions_of(episodes: list[Episode]) -> Transitions:
    """``(s, a, s')`` tensors of played episodes."""
    return transitions(DatasetArrays.from_episodes(episodes))
