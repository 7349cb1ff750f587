"""Augmented Random Search in NumPy: parallel over processes and exactly resumable.

ARS V2-t (Mania, Guy & Recht 2018, "Simple random search provides a competitive approach to
reinforcement learning"): a linear policy ``a = clip(W @ norm(obs), low, high)`` with running
observation normalisation. Every update samples ``n_delta`` Gaussian directions ``d``, plays one
episode with ``W + delta_std * d`` and one with ``W - delta_std * d`` (same reset seed), keeps
the ``n_top`` directions with the best ``max(r+, r-)`` and moves
``W += learning_rate / (n_top * std(returns)) * sum((r+ - r-) * d)``. ``alive_bonus_offset`` is
added to every training reward (the paper removes the survival bonus of Hopper/Walker/Ant);
validation and the cards use the true returns.

Why not sb3-contrib's ARS: it runs one torch forward pass per environment step, which limits
it to ~2k steps/s here; this one calls the simulator from NumPy and spreads the ``2 * n_delta``
episodes of an update over worker processes, so it runs close to the simulator's speed.

Determinism: the directions and reset seeds of update ``u`` come from
``numpy.random.default_rng([seed, u])``, every episode depends only on its parameters and seed,
and the results are combined in a fixed order, so a run is identical for any number of workers
and a resumed run is identical to an uninterrupted one. The whole training state is ``W`` and
the normalisation statistics (``state.safetensors``) plus counters (``state.json``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from dataclasses import dataclass
from typing import Any

import numpy as np

from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.rollout import make_env

EPSILON = 1e-8
"""Added to the variance before the square root (as in SB3's ``VecNormalize``)."""
CLIP_OBS = 10.0
"""Normalised observations are clipped to ``[-CLIP_OBS, CLIP_OBS]``."""


def network_spec(normalize: bool, hidden: tuple[int, ...] = ()) -> dict[str, Any]:
    """The expert card's ``network`` section of an exported ARS policy."""
    layers: list[dict[str, str]] = []
    for i in range(len(hidden)):
        layers += [{"op": "linear", "name": f"fc{i}"}, {"op": "tanh"}]
    layers.append({"op": "linear", "name": f"fc{len(hidden)}"})
    spec: dict[str, Any] = {"layers": layers, "head": {"op": "clip"}}
    if normalize:
        spec = {"obs_norm": {"epsilon": EPSILON, "clip": CLIP_OBS}, **spec}
    return spec


@dataclass(frozen=True)
class Layout:
    """Shape of the policy parameters.

    Linear (no hidden layer): a ``(act_dim, obs_dim)`` matrix without bias, started at zero as
    in the paper. With hidden layers: one flat vector of every ``(weight, bias)`` pair; hidden
    weights start from ``N(0, 1/fan_in)`` (a zero start would leave random search without
    signal through ``tanh``), the output layer at zero.
    """

    obs_dim: int
    act_dim: int
    hidden: tuple[int, ...] = ()

    def _shapes(self) -> list[tuple[int, int]]:
        sizes = [self.obs_dim, *self.hidden, self.act_dim]
        return [(out, inp) for inp, out in zip(sizes[:-1], sizes[1:])]

    def initial(self, seed: int) -> np.ndarray:
        """Starting parameters."""
        if not self.hidden:
            return np.zeros((self.act_dim, self.obs_dim))
        rng = np.random.default_rng([seed, 2**32 - 1])  # updates use [seed, u], u < 2**32 - 1
        parts = []
        for i, (out, inp) in enumerate(self._shapes()):
            last = i == len(self.hidden)
            weight = np.zeros((out, inp)) if last else rng.normal(0, 1 / np.sqrt(inp), (out, inp))
            parts += [weight.ravel(), np.zeros(out)]
        return np.concatenate(parts)

    def layers(self, params: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """``(weight, bias)`` per layer (``bias`` is ``None`` for the linear policy)."""
        if not self.hidden:
            return [(params, None)]
        out: list[tuple[np.ndarray, np.ndarray | None]] = []
        at = 0
        for rows, cols in self._shapes():
            weight = params[at:at + rows * cols].reshape(rows, cols)
            at += rows * cols
            out.append((weight, params[at:at + rows]))
            at += rows
        return out

    def forward(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Raw actions for one observation ``(obs_dim,)`` or a batch ``(n, obs_dim)``."""
        if not self.hidden:
            return params @ x if x.ndim == 1 else x @ params.T
        layers = self.layers(params)
        for i, (weight, bias) in enumerate(layers):
            x = (weight @ x if x.ndim == 1 else x @ weight.T) + bias
            if i < len(layers) - 1:
                x = np.tanh(x)
        return x


@dataclass(frozen=True)
class ARSConfig:
    """ARS hyperparameters (the ``hyperparameters`` section of a recipe)."""

    n_delta: int
    n_top: int
    learning_rate: float
    delta_std: float
    alive_bonus_offset: float = 0.0
    net_arch: tuple[int, ...] = ()
    """Hidden layer sizes (tanh); empty: the linear policy of the ARS paper."""

    @classmethod
    def from_recipe(cls, hyperparameters: dict[str, Any], where: str = "hyperparameters"
                    ) -> ARSConfig:
        """Read a recipe's hyperparameters (:func:`~imitation_datasets.core.config.from_mapping`).

        Raises:
            ConfigError: an unknown name (the closest are given), a missing or mistyped value,
                or ``n_top`` outside ``[1, n_delta]``; one line naming ``where``.
        """
        config = from_mapping(cls, hyperparameters, f"{where}: hyperparameters")
        if not 1 <= config.n_top <= config.n_delta:
            raise ConfigError(f"{where}: need 1 <= n_top <= n_delta, got {config.n_top}, "
                              f"{config.n_delta}")
        return config


@dataclass
class ObsStats:
    """Running mean/variance of observations (parallel update of Chan et al.)."""

    mean: np.ndarray
    var: np.ndarray
    count: float

    @classmethod
    def initial(cls, dim: int) -> ObsStats:
        """Identity normalisation before any data (SB3's initial values)."""
        return cls(np.zeros(dim), np.ones(dim), 1e-4)

    def update(self, batch_mean: np.ndarray, batch_var: np.ndarray, batch_count: int) -> None:
        """Merge the statistics of a batch of observations."""
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count
        self.var = (m2 + delta**2 * self.count * batch_count / total) / total
        self.count = total

    def normalise(self, obs: np.ndarray) -> np.ndarray:
        """``clip((obs - mean) / sqrt(var + eps), -CLIP_OBS, CLIP_OBS)``."""
        return np.clip((obs - self.mean) / np.sqrt(self.var + EPSILON), -CLIP_OBS, CLIP_OBS)


# ---------------------------------------------------------------------------------------------
# worker side: one environment per process, built on first use


_ENVS: dict[tuple[str, str], Any] = {}


def _env(env_id: str, env_kwargs: dict[str, Any]) -> Any:
    key = (env_id, repr(sorted(env_kwargs.items())))
    if key not in _ENVS:
        _ENVS[key] = make_env(env_id, env_kwargs)
    return _ENVS[key]


def rollout(task: tuple) -> tuple[float, int, np.ndarray, np.ndarray]:
    """Play one training episode.

    ``task = (env_id, env_kwargs, layout, weights, mean, scale, seed, offset)`` (``mean=None``:
    raw observations); returns the shifted return, the number of steps, and the mean and
    variance of the observations it saw.
    """
    env_id, env_kwargs, layout, weights, mean, scale, seed, offset = task
    env = _env(env_id, env_kwargs)
    low, high = env.action_space.low, env.action_space.high
    obs, _ = env.reset(seed=int(seed))
    seen, total, done = [], 0.0, False
    while not done:
        seen.append(obs)
        features = obs if mean is None else np.clip((obs - mean) * scale, -CLIP_OBS, CLIP_OBS)
        action = layout.forward(weights, features)
        obs, reward, terminated, truncated, _ = env.step(np.clip(action, low, high))
        total += float(reward) + offset
        done = terminated or truncated
    states = np.asarray(seen, dtype=np.float64)
    return total, len(seen), states.mean(axis=0), states.var(axis=0)


def _worker_signals() -> None:
    """Reset the signal handlers a forked worker inherits from the trainer.

    The trainer's SIGTERM handler raises KeyboardInterrupt, which once left ``Pool.terminate``
    waiting on a worker; Ctrl-C is the parent's to handle.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Pool:
    """Runs rollouts in order on ``workers`` forked processes (in-process for one worker)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self._pool = None
        if self.workers > 1:
            os.environ.setdefault("OMP_NUM_THREADS", "1")
            self._pool = mp.get_context("fork").Pool(self.workers, initializer=_worker_signals)

    def map(self, tasks: list[tuple]) -> list[tuple]:
        """Results in task order."""
        if self._pool is None:
            return [rollout(t) for t in tasks]
        return self._pool.map(rollout, tasks, chunksize=1)

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


@dataclass
class ARSState:
    """Everything ARS needs to continue: the policy, the statistics and the counters."""

    weights: np.ndarray
    stats: ObsStats
    updates: int = 0
    timesteps: int = 0
    normalize: bool = True
    """``False``: the policy sees raw observations (ARS V1) and the statistics stay unused."""
    layout: Layout | None = None
    """Parameter shapes (``None``: linear, inferred from ``weights``)."""

    def __post_init__(self) -> None:
        if self.layout is None:
            self.layout = Layout(self.weights.shape[1], self.weights.shape[0])

    @property
    def shapes(self) -> Layout:
        """:attr:`layout`, never ``None`` once built."""
        assert self.layout is not None  # set by __post_init__
        return self.layout

    def tensors(self) -> dict[str, np.ndarray]:
        """The training state as arrays (float64, saved as ``state.safetensors``)."""
        return {"weights": self.weights, "obs_mean": self.stats.mean,
                "obs_var": self.stats.var, "obs_count": np.array([self.stats.count])}

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], updates: int, timesteps: int,
                     normalize: bool = True, layout: Layout | None = None) -> ARSState:
        """Inverse of :meth:`tensors`."""
        stats = ObsStats(tensors["obs_mean"].astype(np.float64),
                         tensors["obs_var"].astype(np.float64), float(tensors["obs_count"][0]))
        return cls(tensors["weights"].astype(np.float64), stats, updates, timesteps, normalize,
                   layout)

    def export(self) -> dict[str, np.ndarray]:
        """The expert's tensors (float32), for :func:`network_spec`."""
        tensors = {}
        for i, (weight, bias) in enumerate(self.shapes.layers(self.weights)):
            tensors[f"fc{i}.weight"] = weight.astype(np.float32)
            if bias is not None:
                tensors[f"fc{i}.bias"] = bias.astype(np.float32)
        if self.normalize:
            tensors.update(obs_mean=self.stats.mean.astype(np.float32),
                           obs_var=self.stats.var.astype(np.float32))
        return tensors

    def act(self, obs: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Actions of the current policy for a batch of observations (float64)."""
        features = self.stats.normalise(obs) if self.normalize else obs
        return np.clip(self.shapes.forward(self.weights, features), low, high)


def update(state: ARSState, config: ARSConfig, seed: int, pool: Pool, env_id: str,
           env_kwargs: dict[str, Any]) -> None:
    """One ARS update (``2 * n_delta`` episodes) applied to ``state`` in place."""
    rng = np.random.default_rng([seed, state.updates])
    deltas = rng.standard_normal((config.n_delta, *state.weights.shape))
    seeds = rng.integers(0, 2**31 - 1, size=config.n_delta)
    mean = state.stats.mean if state.normalize else None
    scale = 1.0 / np.sqrt(state.stats.var + EPSILON)
    tasks = [(env_id, env_kwargs, state.layout, state.weights + sign * config.delta_std * delta,
              mean, scale, int(s), float(config.alive_bonus_offset))
             for delta, s in zip(deltas, seeds) for sign in (1.0, -1.0)]
    results = pool.map(tasks)
    returns = np.array([r[0] for r in results]).reshape(config.n_delta, 2)
    top = np.argsort(-returns.max(axis=1), kind="stable")[: config.n_top]
    sigma = returns[top].std()
    step = np.tensordot(returns[top, 0] - returns[top, 1], deltas[top], axes=1)
    if sigma > 0:
        state.weights = state.weights + config.learning_rate / (config.n_top * sigma) * step
    for _, steps, batch_mean, batch_var in results:
        state.stats.update(batch_mean, batch_var, steps)
    state.timesteps += sum(r[1] for r in results)
    state.updates += 1
