"""The dataset report's plots, as PNG bytes (matplotlib's object API: no pyplot global state).

* returns and episode lengths (histograms);
* actions: frequencies (Discrete) or per-dimension histograms (Box, up to
  :data:`MAX_ACTION_PANELS` dimensions);
* visited states: the sampled standardised states projected on their first two principal
  components, coloured by the return of the episode each state belongs to.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from imitation_datasets.core.extras import require_extra

MAX_ACTION_PANELS = 6
"""Box action dimensions drawn (the first ones)."""
MAX_POINTS = 4000
"""States drawn in the projection (the sample's first ones, already a seeded draw)."""


def _figure(width: float, height: float) -> Any:
    require_extra("plots", "the dataset report's plots")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=90, layout="constrained")


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def returns_and_lengths(returns: np.ndarray, lengths: np.ndarray) -> bytes:
    """Two histograms side by side."""
    figure = _figure(8, 2.8)
    for axes, values, name in zip(figure.subplots(1, 2), (returns, lengths),
                                  ("episode return", "episode length")):
        axes.hist(values, bins=min(40, max(5, len(np.unique(values)))), color="#3b6ea8")
        axes.axvline(float(np.mean(values)), color="#c0392b", linewidth=1, label="mean")
        axes.set_xlabel(name)
        axes.set_ylabel("episodes")
        axes.legend(loc="upper left", fontsize=8)
    return _png(figure)


def action_distribution(actions: np.ndarray, discrete_n: int | None, start: int = 0) -> bytes:
    """Frequencies of discrete actions, or a histogram per Box action dimension."""
    if discrete_n is not None:
        figure = _figure(4, 2.8)
        axes = figure.subplots()
        counts = np.bincount(actions - start, minlength=discrete_n)
        axes.bar(np.arange(start, start + discrete_n), counts / max(1, counts.sum()),
                 color="#3b6ea8")
        axes.set_xlabel("action")
        axes.set_ylabel("fraction of steps")
        axes.set_xticks(np.arange(start, start + discrete_n))
        return _png(figure)
    dims = min(actions.shape[1], MAX_ACTION_PANELS)
    figure = _figure(min(2.6 * dims, 13), 2.6)
    panels = np.atleast_1d(figure.subplots(1, dims))
    for d, axes in enumerate(panels):
        axes.hist(actions[:, d], bins=40, color="#3b6ea8")
        axes.set_xlabel(f"action[{d}]")
    panels[0].set_ylabel("steps")
    return _png(figure)


def principal_components(states: np.ndarray, count: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``(projection (n, count), explained variance ratios)`` of centred ``states`` by SVD."""
    centred = states - states.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    count = min(count, vt.shape[0])
    variance = singular ** 2
    ratio = variance[:count] / variance.sum() if variance.sum() > 0 else np.zeros(count)
    projection = centred @ vt[:count].T
    if count < 2:
        projection = np.concatenate([projection, np.zeros((len(states), 2 - count))], axis=1)
    return projection, ratio


def state_projection(states: np.ndarray, colour: np.ndarray) -> bytes:
    """Standardised states on their first two principal components, coloured by ``colour``."""
    states, colour = states[:MAX_POINTS], colour[:MAX_POINTS]
    projection, ratio = principal_components(states)
    figure = _figure(5.5, 4.2)
    axes = figure.subplots()
    order = np.argsort(colour, kind="stable")  # high returns drawn last, on top
    points = axes.scatter(projection[order, 0], projection[order, 1], c=colour[order], s=4,
                          cmap="viridis", linewidths=0)
    figure.colorbar(points, ax=axes, label="episode return")
    shares = [f"{100 * r:.0f} %" for r in ratio] + ["0 %"] * (2 - len(ratio))
    axes.set_xlabel(f"PC 1 ({shares[0]} of variance)")
    axes.set_ylabel(f"PC 2 ({shares[1]} of variance)")
    return _png(figure)
