"""Quality of one dataset, and the behaviour divergence between two: the public functions.

``dataset_quality(path)`` returns a JSON-ready dict (``docs/quality.md`` defines every number):

* ``returns`` / ``lengths``: distribution (mean, std, quantiles) and the D4RL-style normalised
  score ``100 (mean - random) / (expert - random)`` from the metadata's reference returns;
* ``acceptance``: from the metadata (attempts, rejected returns, rate);
* ``states``: Kozachenko–Leonenko entropy of the standardised states (nats, and per dimension);
* ``actions``: Discrete: marginal entropy ``H(A)`` and k-NN conditional entropy ``H(A|S)``;
  Box: k-NN local action variance; both as a *consistency* in ``[0, 1]`` (1: the same state
  always gets the same action);
* ``transitions``: k-NN variance of the standardised state change ``s' - s`` among neighbours in
  ``(s, a)``;
* ``expert``: action divergence from the curated expert at the dataset's states;
* ``episodes``: duplicates and outliers with reasons.

``compare_datasets(a, b)`` adds the state-distribution distance (energy distance with a
permutation test), the returns' Kolmogorov–Smirnov statistic, and each dataset's expert
divergence with their difference. Every state statistic works on a seeded subsample
(:mod:`imitation_datasets.quality.sample`) whose size and seed are recorded.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.json_values import json_number
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.schema import dataset_spaces
from imitation_datasets.data.sources import as_loaded
from imitation_datasets.quality.episodes import EpisodeFlags, flag_episodes
from imitation_datasets.quality.estimators import (
    energy_test,
    entropy_of_counts,
    grouped_local_variance,
    kl_entropy,
    knn,
    ks_statistic,
    local_entropy,
    local_variance,
)
from imitation_datasets.quality.expert import NoExpertError, action_divergence, expert_for
from imitation_datasets.quality.options import QualityOptions
from imitation_datasets.quality.sample import (
    MAX_STATE_DIMS,
    Normaliser,
    StepSample,
    draw_steps,
    has_state_vectors,
    state_dims,
)


def _distribution(values: np.ndarray) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    q = np.quantile(values, [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0])
    return {"mean": float(values.mean()), "std": float(values.std()),
            **{name: float(v) for name, v in zip(("min", "p5", "p25", "median", "p75", "p95",
                                                   "max"), q)}}


def _normalised_score(mean: float, metadata: dict[str, Any]) -> float | None:
    """``100 (mean - random) / (expert - random)``; the curated expert's card fills gaps."""
    reference = metadata.get("reference") or {}
    low, high = reference.get("random_return_mean"), reference.get("expert_return_mean")
    if low is None or high is None:
        try:
            evaluation = expert_for(metadata).card.evaluation
        except NoExpertError:
            return None
        low = evaluation.random_return_mean if low is None else low
        high = evaluation.return_mean if high is None else high
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)) or high == low:
        return None
    return 100.0 * (mean - low) / (high - low)


def _state_metrics(sample: StepSample, normalise: Normaliser, k: int) -> dict[str, Any]:
    states = normalise(sample.states)
    distinct = np.unique(states, axis=0)
    dims = states.shape[1]
    entropy = kl_entropy(distinct, k)
    units = float(np.sum(np.log(normalise.std[normalise.keep])))
    return {"dims": dims, "constant_dims": int((~normalise.keep).sum()),
            "distinct_fraction": len(distinct) / len(states),
            "knn_entropy": entropy, "knn_entropy_per_dim": entropy / dims if dims else None,
            "knn_entropy_env_units": entropy + units}


def _action_metrics(sample: StepSample, states: np.ndarray, action_space: gym.Space,
                    k: int) -> dict[str, Any]:
    neighbours, _ = knn(states, k)
    if isinstance(action_space, gym.spaces.Discrete):
        start, n = int(action_space.start), int(action_space.n)
        labels = sample.actions - start
        marginal = entropy_of_counts(np.bincount(labels, minlength=n).astype(float))
        conditional = local_entropy(labels, neighbours, n)
        return {"kind": "discrete", "entropy": marginal, "knn_conditional_entropy": conditional,
                "consistency": 1.0 - conditional / math.log(n) if n > 1 else 1.0,
                "frequencies": (np.bincount(labels, minlength=n) / len(labels)).tolist()}
    actions = sample.actions
    local = local_variance(actions, neighbours)
    overall = float(np.mean(actions.var(axis=0)))
    return {"kind": "continuous", "knn_action_variance": local, "action_variance": overall,
            "consistency": 1.0 - local / overall if overall > 0 else 1.0}


def _transition_metrics(sample: StepSample, normalise: Normaliser, action_space: gym.Space,
                        k: int) -> dict[str, Any]:
    rows = sample.has_next
    if rows.sum() < 3:
        return {"note": "no next observations (original layout without final observations)"}
    states = normalise(sample.states[rows])
    change = normalise(sample.next_states[rows]) - states
    spread = change.std(axis=0)
    change = change / np.where(spread > 0, spread, 1.0)
    actions = sample.actions[rows]
    if isinstance(action_space, gym.spaces.Discrete):
        variance = grouped_local_variance(states, actions, change, k)
    else:
        scaled = (actions - actions.mean(axis=0)) / np.where(actions.std(axis=0) > 0,
                                                             actions.std(axis=0), 1.0)
        neighbours, _ = knn(np.concatenate([states, scaled], axis=1), k)
        variance = local_variance(change, neighbours)
    return {"knn_state_change_variance": variance, "transitions": int(rows.sum())}


def _expert_metrics(loaded: LoadedData, sample: StepSample, action_space: gym.Space,
                    name: str | None) -> tuple[dict[str, Any], np.ndarray | None]:
    """The expert section, and each episode's mean divergence over its sampled steps.

    Episodes with no sampled step get NaN.
    """
    try:
        expert = expert_for(loaded.metadata, name)
    except (NoExpertError, LookupError) as exc:
        if name is not None:
            raise
        return {"note": str(exc)}, None
    summary, per_step = action_divergence(expert, sample.states, sample.actions,
                                          tuple(loaded.arrays.obs.shape[1:]), action_space)
    episodes = loaded.arrays.n_episodes
    counts = np.bincount(sample.episodes, minlength=episodes)
    sums = np.bincount(sample.episodes, weights=per_step, minlength=episodes)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_episode = np.where(counts > 0, sums / counts, np.nan)
    covered = per_episode[counts > 0]
    summary.update(episode_weighted_divergence=float(covered.mean()),
                   episodes_covered=int(len(covered)),
                   episode_divergence_p95=float(np.quantile(covered, 0.95)))
    return summary, per_episode


@dataclass
class Measured:
    """One dataset's quality: the JSON-ready ``metrics``, and what the report draws from."""

    metrics: dict[str, Any]
    loaded: LoadedData
    sample: StepSample
    normalise: Normaliser | None
    flags: EpisodeFlags
    episode_divergence: np.ndarray | None = None
    """Mean expert action divergence of each episode's sampled steps (NaN: none sampled)."""


def measure(source: str | Path | LoadedData, options: QualityOptions | None = None) -> Measured:
    """Every metric of the module docstring for one dataset (see :func:`dataset_quality`)."""
    options = options or QualityOptions()
    loaded = as_loaded(source)
    arrays, metadata = loaded.arrays, loaded.metadata or {}
    _, action_space = dataset_spaces(loaded.metadata, arrays.obs, arrays.actions)
    sample = draw_steps(arrays, options.sample_size, options.seed)
    returns = arrays.returns
    collection = metadata.get("collection") or {}
    threshold = collection.get("threshold")
    metrics: dict[str, Any] = {
        "dataset": loaded.origin,
        "env": (metadata.get("env") or {}).get("id"),
        "episodes": arrays.n_episodes, "steps": arrays.n_steps,
        "sample": sample.record(),
        "options": dataclasses.asdict(options),
        "returns": {**_distribution(returns),
                    "normalised_score": _normalised_score(float(returns.mean()), metadata)},
        "lengths": _distribution(arrays.lengths),
        "acceptance": metadata.get("acceptance"),
    }
    normalise, per_episode = None, None
    if has_state_vectors(arrays):
        normalise = Normaliser.fit(sample.states)
        metrics["states"] = _state_metrics(sample, normalise, options.k)
        metrics["actions"] = _action_metrics(sample, normalise(sample.states), action_space,
                                             options.k)
        metrics["transitions"] = _transition_metrics(sample, normalise, action_space, options.k)
        metrics["expert"], per_episode = _expert_metrics(loaded, sample, action_space,
                                                         options.expert)
    else:
        metrics["states"] = {"note": f"observations of {state_dims(arrays)} numbers (images): "
                                     f"state metrics skipped (they need at most "
                                     f"{MAX_STATE_DIMS})"}
    flags = flag_episodes(arrays, normalise, tolerance=options.duplicate_tolerance,
                          outlier_iqr=options.outlier_iqr, k=options.k, seed=options.seed,
                          threshold=threshold if isinstance(threshold, (int, float)) else None)
    metrics["flags"] = flags.to_json()
    return Measured(metrics, loaded, sample, normalise, flags, per_episode)


def dataset_quality(source: str | Path | LoadedData, options: QualityOptions | None = None
                    ) -> dict[str, Any]:
    """The quality metrics of one dataset (anything ``BaselineDataset`` reads), as JSON values.

    Example::

        from imitation_datasets.quality import dataset_quality
        q = dataset_quality("dataset/cartpole")
        q["actions"]["consistency"], q["expert"]["action_divergence"], q["flags"]["flagged"]
    """
    return measure(source, options).metrics


def compare_datasets(a: str | Path | LoadedData, b: str | Path | LoadedData,
                     options: QualityOptions | None = None) -> dict[str, Any]:
    """Behaviour divergence between two datasets of the same environment.

    Returns ``{"a": quality of a, "b": quality of b, "between": {...}}`` where ``between`` holds
    the energy distance of their standardised state distributions (pooled standardisation,
    ``comparison_size`` steps of each, with a permutation p-value), the Kolmogorov–Smirnov
    statistic of their returns, and their expert action divergences and the difference.
    """
    options = options or QualityOptions()
    first, second = measure(a, options), measure(b, options)
    shapes = first.loaded.arrays.obs.shape[1:], second.loaded.arrays.obs.shape[1:]
    if shapes[0] != shapes[1]:
        raise ConfigError(f"observations differ in shape: {shapes[0]} and {shapes[1]}")
    envs = first.metrics["env"], second.metrics["env"]
    if None not in envs and envs[0] != envs[1]:
        raise ConfigError(f"the datasets are of different environments: {envs[0]} and {envs[1]}")
    between: dict[str, Any] = {
        "returns_ks": ks_statistic(first.loaded.arrays.returns, second.loaded.arrays.returns),
        "returns_mean_difference": first.metrics["returns"]["mean"]
        - second.metrics["returns"]["mean"],
    }
    if first.normalise is not None:
        (x, gx), (y, gy) = _subsample(first.sample, options), _subsample(second.sample, options)
        pooled = Normaliser.fit(np.concatenate([x, y]))
        between["states"] = {**energy_test(pooled(x), pooled(y), options.permutations,
                                           options.seed, groups=(gx, gy)),
                             "size": [len(x), len(y)]}
    divergences = [m.metrics.get("expert", {}).get("action_divergence") for m in (first, second)]
    if all(isinstance(d, float) for d in divergences):
        between["expert_action_divergence"] = {"a": divergences[0], "b": divergences[1],
                                               "difference": divergences[0] - divergences[1]}
    return {"a": first.metrics, "b": second.metrics, "between": between}


def _subsample(sample: StepSample, options: QualityOptions) -> tuple[np.ndarray, np.ndarray]:
    """``comparison_size`` of the sampled states (seeded) and their episodes."""
    rows = np.arange(sample.size)
    if sample.size > options.comparison_size:
        rng = np.random.default_rng(options.seed)
        rows = np.sort(rng.choice(sample.size, options.comparison_size, replace=False))
    return sample.states[rows], sample.episodes[rows]


def json_ready(value: Any) -> Any:
    """``value`` with NumPy scalars made Python numbers and NaN/inf written as strings."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return json_number(value)
    return value
