"""Episode-level checks: exact and near duplicates, and outliers, each flag with its reason.

* **Exact duplicate**: the same reset seed as an earlier episode, or byte-identical observations
  and actions (sha256 of each episode's rows).
* **Near duplicate**: the episode's *signature* (its normalised observations at
  :data:`SIGNATURE_POINTS` evenly spaced steps, interpolated in time) lies within
  ``tolerance`` (root-mean-square, in standard deviations of the dataset's states) of an earlier
  episode's, and both have the same length.
* **Outlier**: a return or length outside Tukey's fences ``(Q1 - c IQR, Q3 + c IQR)``
  (``c = outlier_iqr``, 3 by default: Tukey's "far out"), or a *novelty* (mean signature distance
  to the ``k`` nearest other episodes) above the upper fence; and any episode whose return is
  below the dataset's acceptance threshold. Fences, unlike z-scores, do not flag the modes of a
  multi-modal return distribution (Pendulum episodes that start upright).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.quality.estimators import fences, knn
from imitation_datasets.quality.sample import Normaliser

SIGNATURE_POINTS = 16
"""Steps of each episode that make its signature."""
MAX_SIGNATURE_EPISODES = 5000
"""Episodes compared by their states (near duplicates, novelty): a seeded subset beyond this,
so the pairwise work stays bounded; seeds, hashes, returns and lengths cover every episode."""


@dataclass
class EpisodeFlags:
    """Flags per episode: ``{episode: [reason, ...]}`` plus the per-episode novelty scores."""

    reasons: dict[int, list[str]] = field(default_factory=dict)
    novelty: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Per episode (NaN where not compared by states)."""
    compared: int = 0
    """Episodes compared by their states."""

    def add(self, episode: int, reason: str) -> None:
        """Flag ``episode`` with ``reason``."""
        self.reasons.setdefault(int(episode), []).append(reason)

    def count(self, word: str) -> int:
        """Episodes with at least one reason starting with ``word``."""
        return sum(any(r.startswith(word) for r in rs) for rs in self.reasons.values())

    def to_json(self) -> dict[str, Any]:
        """``{"duplicates": n, "outliers": n, "flagged": {episode: [reasons]}}``."""
        return {"duplicates": self.count("duplicate") + self.count("near-duplicate"),
                "outliers": self.count("outlier") + self.count("below"),
                "episodes_compared_by_states": self.compared,
                "flagged": {str(e): r for e, r in sorted(self.reasons.items())}}


def episode_hashes(arrays: DatasetArrays) -> list[str]:
    """sha256 of each episode's observations and actions (read one episode at a time).

    Encoded image observations are hashed as stored (not decoded).
    """
    hashes = []
    obs = arrays.obs
    for start, length in zip(arrays.starts.tolist(), arrays.lengths.tolist()):
        digest = hashlib.sha256()
        if isinstance(obs, np.ndarray):
            digest.update(np.ascontiguousarray(obs[start:start + length]).tobytes())
        else:  # encoded images (data/images.py ImageColumn): their stored bytes or paths
            for row in range(start, start + length):
                value = obs.raw(row)
                digest.update(value.encode() if isinstance(value, str) else bytes(value))
        digest.update(np.ascontiguousarray(arrays.actions[start:start + length]).tobytes())
        hashes.append(digest.hexdigest())
    return hashes


def signatures(arrays: DatasetArrays, normalise: Normaliser, episodes: np.ndarray
               ) -> np.ndarray:
    """``(len(episodes), SIGNATURE_POINTS * D')``: normalised states at evenly spaced steps."""
    lengths, count = arrays.lengths[episodes], len(episodes)
    position = np.linspace(0.0, 1.0, SIGNATURE_POINTS)
    offsets = position[None, :] * (lengths[:, None] - 1)
    low = np.floor(offsets).astype(np.int64)
    high = np.minimum(low + 1, lengths[:, None] - 1)
    weight = (offsets - low)[..., None]
    starts = arrays.starts[episodes][:, None]
    rows_low, rows_high = (starts + low).reshape(-1), (starts + high).reshape(-1)
    flat = count * SIGNATURE_POINTS

    def states(rows: np.ndarray) -> np.ndarray:
        return normalise(np.asarray(arrays.obs[rows], dtype=np.float64).reshape(flat, -1))

    mixed = states(rows_low).reshape(count, SIGNATURE_POINTS, -1) * (1 - weight) + \
        states(rows_high).reshape(count, SIGNATURE_POINTS, -1) * weight
    return mixed.reshape(count, -1)


def flag_episodes(arrays: DatasetArrays, normalise: Normaliser | None, *, tolerance: float,
                  outlier_iqr: float, k: int, threshold: float | None, seed: int = 0
                  ) -> EpisodeFlags:
    """Every flag of the module docstring, for every episode of ``arrays``.

    ``normalise`` is ``None`` when states are not compared (images): then only seeds, hashes,
    returns and lengths are checked. Beyond :data:`MAX_SIGNATURE_EPISODES` episodes, states
    are compared on a subset drawn with ``seed``.
    """
    flags = EpisodeFlags()
    first_of_seed: dict[int, int] = {}
    for episode, seed in enumerate(arrays.seeds.tolist()):
        if seed >= 0 and seed in first_of_seed:
            flags.add(episode, f"duplicate: same reset seed {seed} as episode "
                               f"{first_of_seed[seed]}")
        first_of_seed.setdefault(seed, episode)
    first_of_hash: dict[str, int] = {}
    for episode, digest in enumerate(episode_hashes(arrays)):
        if digest in first_of_hash:
            flags.add(episode, "duplicate: same observations and actions as episode "
                               f"{first_of_hash[digest]}")
        first_of_hash.setdefault(digest, episode)
    returns, lengths = arrays.returns, arrays.lengths
    for name, values in (("return", returns), ("length", lengths.astype(float))):
        low, high = fences(values, outlier_iqr)
        for row in np.flatnonzero((values < low) | (values > high)).tolist():
            flags.add(row, f"outlier: {name} {values[row]:.6g} outside "
                           f"[{low:.6g}, {high:.6g}] (median {np.median(values):.6g})")
    if threshold is not None:
        for row in np.flatnonzero(returns < threshold).tolist():
            flags.add(row, f"below threshold: return {returns[row]:.6g} < "
                           f"{threshold:.6g}")
    flags.novelty = np.full(arrays.n_episodes, np.nan)
    if normalise is not None and arrays.n_episodes > 1:
        episodes = np.arange(arrays.n_episodes)
        if arrays.n_episodes > MAX_SIGNATURE_EPISODES:
            rng = np.random.default_rng(seed)
            episodes = np.sort(rng.choice(arrays.n_episodes, MAX_SIGNATURE_EPISODES,
                                          replace=False))
        _flag_by_signature(flags, signatures(arrays, normalise, episodes), episodes, lengths,
                           tolerance, outlier_iqr, k)
    return flags


def _flag_by_signature(flags: EpisodeFlags, signature: np.ndarray, episodes: np.ndarray,
                       lengths: np.ndarray, tolerance: float, outlier_iqr: float, k: int) -> None:
    """Near duplicates and novelty outliers among ``episodes`` (rows of ``signature``)."""
    neighbours, distances = knn(signature, k)
    rms = distances / np.sqrt(max(signature.shape[1], 1))
    novelty = rms.mean(axis=1)
    flags.novelty[episodes] = novelty
    flags.compared = len(episodes)
    exact = {e for e, reasons in flags.reasons.items()
             if any(r.startswith("duplicate") for r in reasons)}
    for row, episode in enumerate(episodes.tolist()):
        if episode in exact:
            continue
        close = [(int(episodes[j]), float(d)) for j, d in zip(neighbours[row], rms[row])
                 if d <= tolerance and episodes[j] < episode
                 and lengths[episodes[j]] == lengths[episode]]
        if close:
            other, distance = min(close)
            flags.add(episode, f"near-duplicate: within {distance:.2g} RMS of episode {other}")
    _, high = fences(novelty, outlier_iqr)
    for row in np.flatnonzero(novelty > high).tolist():
        flags.add(int(episodes[row]), f"outlier: states far from other episodes (novelty "
                                      f"{novelty[row]:.3g} > {high:.3g})")
