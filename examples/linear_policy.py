"""A method of your own, benchmarked like the shipped ones (docs/own_method.md walks through it).

Run it through the whole protocol (from the repository root)::

    PYTHONPATH=examples il-datasets benchmark --methods bc,linear_policy:LinearPolicy
        --envs cartpole --seeds 2 --demos 5 --out my_results
"""

import gymnasium as gym
import numpy as np


class LinearPolicy:
    """Least squares from observations to the expert's actions (one-hot scores if discrete)."""

    name = "linear"  # the name of its cells and report rows

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, seed: int = 0):
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.n_actions = int(action_space.n) if self.discrete else 0
        self.weights = np.zeros(0)

    def features(self, obs: np.ndarray) -> np.ndarray:
        """Observations, flattened, with a bias column."""
        obs = np.asarray(obs, dtype=np.float64).reshape(len(obs), -1)
        return np.hstack([obs, np.ones((len(obs), 1))])

    def fit(self, task) -> None:
        """Fit on the task's training episodes (``task.expert``); nothing else is needed."""
        obs, actions = task.expert.obs, task.expert.actions
        targets = (np.eye(self.n_actions)[actions.reshape(-1)] if self.discrete
                   else actions.reshape(len(actions), -1))
        self.weights = np.linalg.lstsq(self.features(obs), targets, rcond=None)[0]

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """Actions for a batch of observations."""
        scores = self.features(obs) @ self.weights
        return scores.argmax(axis=1) if self.discrete else scores.astype(np.float32)
