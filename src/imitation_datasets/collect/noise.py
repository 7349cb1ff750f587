"""Sub-optimal datasets on purpose: seeded action noise and a mixture of expert and random episodes.

Two collection options (``CollectOptions.action_noise``, ``CollectOptions.random_episodes``):

* **action noise**: Discrete actions are replaced, with probability ``epsilon = action_noise``
  at each step, by a uniformly random action (epsilon-random); Box actions get Gaussian noise of
  standard deviation ``action_noise`` times half the action range (absolute units where the
  space is unbounded), then are clipped to the bounds;
* **random episodes**: each episode is, with probability ``random_episodes``, played entirely
  with uniformly random actions; the others are the (possibly noisy) expert's.

Every draw comes from generators seeded by the episode's reset seed alone (:func:`kind_stream`,
:func:`noise_stream`), consumed in step order, so the data depend on nothing else: the same
seeds give the same bytes with any number of workers or environments per worker. Which
episodes are random is a function of their recorded seeds (:func:`random_episode`), so the
metadata lists them and anyone can check it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.extras import require_env_extra
from imitation_datasets.core.rollout import EpisodeRunner, make_env

NOISE_STREAM = 0x6E6F6973
"""``spawn_key`` of the per-step noise stream of an episode (ASCII ``"nois"``)."""
KIND_STREAM = 0x6B696E64
"""``spawn_key`` of the draw that makes an episode random (ASCII ``"kind"``)."""


@dataclass(frozen=True)
class NoiseSpec:
    """How the played actions depart from the expert's (see the module docstring)."""

    action_noise: float = 0.0
    random_episodes: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.random_episodes <= 1.0:
            raise ConfigError(f"random_episodes must be in [0, 1], got {self.random_episodes}")
        if not self.action_noise >= 0.0:
            raise ConfigError(f"action_noise must be >= 0, got {self.action_noise}")

    @property
    def active(self) -> bool:
        """Whether any noise is asked for."""
        return self.action_noise > 0 or self.random_episodes > 0

    def to_json(self, space: gym.Space) -> dict[str, Any]:
        """What the metadata (and the run fingerprint) record."""
        kind = "epsilon_random" if isinstance(space, gym.spaces.Discrete) else "gaussian"
        return {"action_noise": {"kind": kind, "scale": self.action_noise,
                                 **({"unit": "half the action range, clipped to the bounds"}
                                    if kind == "gaussian" else {})},
                "random_episodes": self.random_episodes,
                "seed_rule": "per episode: SeedSequence(reset_seed, spawn_key=(0x6b696e64,))"
                             ".random() < random_episodes makes it random; step noise from "
                             "SeedSequence(reset_seed, spawn_key=(0x6e6f6973,))"}


def kind_stream(reset_seed: int) -> np.random.Generator:
    """The generator whose first draw decides whether an episode is random."""
    return np.random.default_rng(np.random.SeedSequence(int(reset_seed),
                                                        spawn_key=(KIND_STREAM,)))


def noise_stream(reset_seed: int) -> np.random.Generator:
    """The generator of an episode's per-step noise."""
    return np.random.default_rng(np.random.SeedSequence(int(reset_seed),
                                                        spawn_key=(NOISE_STREAM,)))


def random_episode(reset_seed: int, fraction: float) -> bool:
    """Whether the episode reset with ``reset_seed`` is played with random actions."""
    return fraction > 0 and bool(kind_stream(reset_seed).random() < fraction)


def check_noise_space(space: gym.Space, noise: NoiseSpec) -> None:
    """Refuse noise on action spaces other than Discrete and Box, and epsilon above 1.

    Raises:
        ConfigError: one line naming the space.
    """
    if isinstance(space, gym.spaces.Discrete):
        if noise.action_noise > 1:
            raise ConfigError(f"action_noise is a probability for Discrete actions (epsilon), "
                              f"got {noise.action_noise}")
        return
    if not isinstance(space, gym.spaces.Box):
        raise ConfigError(f"action noise and random episodes need Discrete or Box actions, "
                          f"not {space}")


class Perturbation:
    """One episode's noise: its generator and whether it is a random episode."""

    def __init__(self, reset_seed: int, noise: NoiseSpec, space: gym.Space) -> None:
        self.rng = noise_stream(reset_seed)
        self.random = random_episode(reset_seed, noise.random_episodes)
        self.noise = noise
        self.space = space
        if isinstance(space, gym.spaces.Box):
            low, high = np.asarray(space.low, float), np.asarray(space.high, float)
            bounded = np.isfinite(low) & np.isfinite(high)
            self.scale = np.where(bounded, (high - low) / 2, 1.0) * noise.action_noise

    def __call__(self, action: Any) -> Any:
        """The action played instead of the expert's ``action``."""
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            replace = self.random or bool(self.rng.random() < self.noise.action_noise)
            return int(space.start) + int(self.rng.integers(space.n)) if replace else action
        assert isinstance(space, gym.spaces.Box)
        if self.random:
            value = self.rng.uniform(np.maximum(space.low, -1e6), np.minimum(space.high, 1e6))
        else:
            value = np.asarray(action, float) + self.scale * self.rng.standard_normal(space.shape)
        return np.clip(value, space.low, space.high).astype(space.dtype)


class NoisyRunner(EpisodeRunner):
    """An :class:`EpisodeRunner` whose played (and recorded) actions are perturbed per episode."""

    def __init__(self, *args: Any, noise: NoiseSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.noise = noise
        self.space = self.slots[0].env.action_space
        check_noise_space(self.space, noise)
        self.perturbations: dict[int, tuple[Any, Perturbation]] = {}

    def _actions(self, active: list[int]) -> list[Any]:
        actions = super()._actions(active)
        for position, i in enumerate(active):
            job = self.slots[i].job
            state = self.perturbations.get(i)
            if state is None or state[0] is not job:  # a new episode on this slot
                assert job is not None
                state = (job, Perturbation(job[1], self.noise, self.space))
                self.perturbations[i] = state
            actions[position] = state[1](actions[position])
        return actions


def describe_noise(env_id: str, env_kwargs: dict[str, Any], noise: NoiseSpec) -> dict[str, Any]:
    """``noise.to_json`` for the env's action space, after :func:`check_noise_space`."""
    require_env_extra(env_id)
    env = make_env(env_id, env_kwargs)
    try:
        check_noise_space(env.action_space, noise)
        return noise.to_json(env.action_space)
    finally:
        env.close()


def noise_metadata(described: dict[str, Any], seeds: np.ndarray) -> dict[str, Any]:
    """The metadata's ``collection.noise``: the description plus which episodes are random."""
    fraction = float(described["random_episodes"])
    return {**described, "random_episode_indices": [
        i for i, seed in enumerate(seeds.tolist()) if random_episode(seed, fraction)]}


def reference_scores(reference: dict[str, Any]) -> dict[str, Any]:
    """D4RL/Minari-style reference scores, where the random and expert returns are known.

    ``ref_min_score`` (random policy), ``ref_max_score`` (expert) and the dataset's
    ``normalized_score = 100 (return - min) / (max - min)``.
    """
    values = [reference.get(k) for k in ("random_return_mean", "expert_return_mean",
                                         "dataset_return_mean")]
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    if len(numbers) != 3 or numbers[0] == numbers[1]:
        return {}
    low, high, mean = numbers
    return {"ref_min_score": low, "ref_max_score": high,
            "normalized_score": 100.0 * (mean - low) / (high - low)}
