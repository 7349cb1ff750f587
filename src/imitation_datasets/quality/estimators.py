"""Non-parametric estimators on samples of states and actions: k-NN statistics and distances.

Everything here is plain NumPy/SciPy on arrays already subsampled and normalised by the caller
(:mod:`imitation_datasets.quality.sample`); each function's memory is bounded by
:data:`CHUNK_ROWS` rows of pairwise distances at a time. Definitions and references are in
``docs/quality.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.special import digamma, gammaln

CHUNK_ROWS = 512
"""Rows of the pairwise-distance matrix held at once (``CHUNK_ROWS x N`` float64)."""
RESOLUTION = 1e-3
"""k-NN distances are clipped here before their logarithm (in the units of the data: standard
deviations of standardised states). States closer than this count as one for diversity, so a
policy that parks in one state (Pendulum held upright) lowers the entropy by a bounded amount
instead of towards ``-inf``."""


def _squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def distance_chunks(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Euclidean distances from ``x`` to ``y``, :data:`CHUNK_ROWS` rows of ``x`` at a time.

    Yields ``(first_row, distances)`` with ``distances`` of shape ``(rows, len(y))``.
    """
    y_norms = _squared_norms(y)
    for first in range(0, len(x), CHUNK_ROWS):
        block = x[first:first + CHUNK_ROWS]
        squared = _squared_norms(block)[:, None] + y_norms[None, :] - 2.0 * block @ y.T
        yield first, np.sqrt(np.maximum(squared, 0.0))


def knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest neighbours of every row of ``x`` among the other rows.

    Returns:
        ``(indices, distances)``, both ``(N, k)``, nearest first. ``k`` is capped at ``N - 1``.
    """
    n = len(x)
    k = min(k, n - 1)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k))
    if k <= 0:
        return indices, distances
    for first, block in distance_chunks(x, x):
        rows = np.arange(len(block))
        block[rows, first + rows] = np.inf  # not its own neighbour
        part = np.argpartition(block, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(block, part, axis=1)
        order = np.argsort(near, axis=1, kind="stable")
        indices[first:first + len(block)] = np.take_along_axis(part, order, axis=1)
        distances[first:first + len(block)] = np.take_along_axis(near, order, axis=1)
    return indices, distances


def log_unit_ball_volume(d: int) -> float:
    """``log`` of the volume of the unit ball in ``d`` dimensions (Euclidean norm)."""
    return d / 2 * math.log(math.pi) - float(gammaln(d / 2 + 1))


def kl_entropy(x: np.ndarray, k: int = 10, resolution: float = RESOLUTION) -> float:
    """Kozachenko–Leonenko k-NN estimate of the differential entropy of ``x`` (nats).

    ``H = psi(N) - psi(k) + log V_d + d/N * sum_i log r_i``, ``r_i`` the distance from row ``i``
    to its ``k``-th nearest neighbour (Kozachenko & Leonenko 1987; Kraskov, Stögbauer &
    Grassberger 2004, eq. 20). Distances are clipped at ``resolution`` (:data:`RESOLUTION`).
    """
    n, d = x.shape
    if n < 2 or d == 0:
        return float("nan")
    _, distances = knn(x, k)
    k = distances.shape[1]
    radius = np.maximum(distances[:, -1], resolution)
    return float(digamma(n) - digamma(k) + log_unit_ball_volume(d) + d * np.mean(np.log(radius)))


def local_variance(values: np.ndarray, neighbours: np.ndarray) -> float:
    """Mean over rows of the variance of ``values`` over the row and its neighbours.

    Args:
        values: ``(N, m)`` what varies (actions, state changes).
        neighbours: ``(N, k)`` indices of each row's neighbours.

    Returns:
        The per-dimension variance averaged over dimensions and rows.
    """
    groups = np.concatenate([values[:, None, :], values[neighbours]], axis=1)
    return float(np.mean(np.var(groups, axis=1)))


def local_entropy(labels: np.ndarray, neighbours: np.ndarray, n_labels: int) -> float:
    """Mean over rows of the entropy (nats) of the labels among the row and its neighbours.

    A k-NN plug-in estimate of the conditional entropy ``H(A | S)`` of discrete actions.
    """
    groups = np.concatenate([labels[:, None], labels[neighbours]], axis=1)
    counts = np.stack([(groups == a).sum(axis=1) for a in range(n_labels)], axis=1)
    p = counts / groups.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return float(np.mean(terms.sum(axis=1)))


def entropy_of_counts(counts: np.ndarray) -> float:
    """Entropy (nats) of the distribution given by ``counts``."""
    total = counts.sum()
    if total <= 0:
        return float("nan")
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum())


def grouped_local_variance(states: np.ndarray, groups: np.ndarray, values: np.ndarray,
                           k: int) -> float:
    """:func:`local_variance` with neighbours searched only among rows of the same group.

    Rows alone in their group are skipped; the result is weighted by group size.
    """
    total, weight = 0.0, 0
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        if len(rows) < 2:
            continue
        neighbours, _ = knn(states[rows], k)
        total += local_variance(values[rows], neighbours) * len(rows)
        weight += len(rows)
    return total / weight if weight else float("nan")


def pooled_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full ``(N + M)`` square matrix of distances between the rows of ``x`` and ``y``."""
    pooled = np.concatenate([x, y])
    out = np.empty((len(pooled), len(pooled)))
    for first, block in distance_chunks(pooled, pooled):
        out[first:first + len(block)] = block
    return out


def _energy_from(distances: np.ndarray, in_x: np.ndarray) -> tuple[float, float]:
    """``(energy distance, mean cross distance)`` for the split ``in_x`` of a pooled matrix."""
    x = in_x.astype(np.float64)
    y = 1.0 - x
    n, m = x.sum(), y.sum()
    dx = distances @ x
    within_x = float(x @ dx) / (n * (n - 1))
    cross = float(y @ dx) / (n * m)
    within_y = float(y @ (distances @ y)) / (m * (m - 1))
    return 2.0 * cross - within_x - within_y, cross


def energy_test(x: np.ndarray, y: np.ndarray, permutations: int, seed: int,
                groups: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Energy distance between the distributions of ``x`` and ``y`` with a permutation test.

    ``E = 2 E|X - Y| - E|X - X'| - E|Y - Y'|`` (Székely & Rizzo 2004; U-statistics for the
    within terms), the homogeneity coefficient ``H = E / (2 E|X - Y|)`` in ``[0, 1]``, and the
    p-value of ``permutations`` seeded relabellings of the pooled sample (``(1 + #{E_perm >=
    E}) / (1 + permutations)``).

    ``groups`` (the episode of each row of ``x`` and of ``y``) makes the relabelling permute
    whole episodes: steps of one episode are not exchangeable, episodes are, so permuting steps
    would give p-values that are far too small.
    """
    distances = pooled_distances(x, y)
    in_x = np.zeros(len(distances), dtype=bool)
    in_x[:len(x)] = True
    energy, cross = _energy_from(distances, in_x)
    rng = np.random.default_rng(seed)
    if groups is None:
        units = np.arange(len(distances))
    else:  # one unit per (dataset, episode)
        _, units = np.unique(np.stack([in_x, np.concatenate(groups)]), axis=1,
                             return_inverse=True)
        units = units.reshape(-1)
    unit_in_x = np.zeros(units.max() + 1, dtype=bool)
    unit_in_x[units[in_x]] = True
    exceed = sum(_energy_from(distances, rng.permutation(unit_in_x)[units])[0] >= energy
                 for _ in range(permutations))
    return {"energy_distance": float(energy),
            "homogeneity": float(energy / (2.0 * cross)) if cross > 0 else 0.0,
            "p_value": (1 + int(exceed)) / (1 + permutations),
            "permutations": permutations,
            "permuted": "episodes" if groups is not None else "rows"}


def fences(values: np.ndarray, k: float) -> tuple[float, float]:
    """Tukey's fences ``(Q1 - k IQR, Q3 + k IQR)`` (``k = 3``: "far out", Tukey 1977)."""
    q1, q3 = np.quantile(np.asarray(values, dtype=np.float64), [0.25, 0.75])
    return float(q1 - k * (q3 - q1)), float(q3 + k * (q3 - q1))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic (largest gap between the empirical CDFs)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    if not len(a) or not len(b):
        return float("nan")
    grid = np.concatenate([a, b])
    gap = np.searchsorted(a, grid, side="right") / len(a) - \
        np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(gap)))
