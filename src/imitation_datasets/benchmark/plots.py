"""The report's PNG plots, drawn from a results mapping alone (matplotlib, imported here only).

* ``performance.png``: performance per environment and method, with 95 % bootstrap CIs;
* ``performance_profile.png``: rliable's performance profile, the fraction of all runs (every
  environment and training seed) whose performance exceeds each threshold ``tau``;
* ``learning_curves.png``: validation performance per epoch, mean over training seeds;
* ``sample_efficiency.png`` (when the results have curves): performance against the number of
  demonstration episodes, mean over training seeds with 95 % bootstrap CIs; a point with fewer
  training seeds than the planned grid has (:mod:`.plan`) is drawn hollow, its seed count beside
  it, so a curve of one seed does not pass for a finished one.

Panels (one per environment) are laid out in rows of at most :data:`MAX_COLUMNS`, with one legend
for the whole figure.

Every plot but the last one is of the cells on the protocol's own number of demonstrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.benchmark.plan import planned_cells
from imitation_datasets.benchmark.protocol import table_cells

MAX_COLUMNS = 4
"""Panels per row of the per-environment figures (learning curves, sample efficiency)."""

PROFILE_POINTS = 201
"""Thresholds of the performance profile, spread over the range of the scores and 1."""


def profile_taus(scores: np.ndarray) -> np.ndarray:
    """Thresholds from just below the lowest score to just above ``max(1, highest score)``."""
    low, high = float(np.min(scores)), max(1.0, float(np.max(scores)))
    margin = 0.02 * max(high - low, 1e-3)
    return np.linspace(low - margin, high + margin, PROFILE_POINTS)


def performance_profile(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Fraction of ``scores`` strictly above each ``tau`` (rliable's run-score distribution)."""
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    return np.asarray([(x > tau).mean() for tau in taus])


def save(plt: Any, fig: Any, path: Path) -> Path:
    """Lay out ``fig``, write it to ``path`` (PNG, 120 dpi) and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


LINESTYLES = ("-", "--", ":", "-.")


def method_styles(methods: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One colour and line style per method, the same in every plot and panel.

    Ten colours (matplotlib's ``tab10``), then the same colours dashed, dotted, and so on: an
    eleventh method does not share the first one's look.
    """
    return {m: {"color": f"C{i % 10}", "linestyle": LINESTYLES[i // 10 % len(LINESTYLES)]}
            for i, m in enumerate(methods)}


def _methods(results: dict[str, Any]) -> list[str]:
    """The shipped methods in their fixed order, then the results' other methods.

    A shipped method therefore looks the same in every report.
    """
    from imitation_datasets.benchmark.options import METHODS

    return [*METHODS, *dict.fromkeys(c["method"] for c in results["cells"]
                                     if c["method"] not in METHODS)]


def plots(results: dict[str, Any], out: Path) -> list[Path]:
    """Draw the three plots into ``out``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = {env: methods for env, methods in results["summary"].items() if methods}
    table = table_cells(results["cells"], results["envs"])
    drawn = []
    if summary:
        drawn += table_plots(plt, results, summary, table, out)
    if results.get("sample_efficiency"):
        drawn.append(sample_efficiency_plot(plt, results, out))
    return drawn


def table_plots(plt: Any, results: dict[str, Any], summary: dict[str, Any],
                table: list[dict[str, Any]], out: Path) -> list[Path]:
    """The plots of the published table: bars, performance profile, learning curves."""
    envs = list(summary)
    methods = list(dict.fromkeys(m for env in envs for m in summary[env]))
    style = method_styles(_methods(results))
    fig, ax = plt.subplots(figsize=(1.8 * len(envs) + 2, 4))
    width = 0.8 / max(len(methods), 1)
    for i, method in enumerate(methods):
        xs, ys, lo, hi = [], [], [], []
        for j, env in enumerate(envs):
            if method in summary[env]:
                perf = summary[env][method]["performance"]
                xs.append(j + i * width)
                ys.append(perf["mean"])
                lo.append(perf["mean"] - perf["ci_low"])
                hi.append(perf["ci_high"] - perf["mean"])
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=method.upper(),
               color=style[method]["color"],
               hatch="//" if style[method]["linestyle"] != "-" else None)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks([j + width * (len(methods) - 1) / 2 for j in range(len(envs))])
    ax.set_xticklabels([results["envs"][e]["env_id"] for e in envs], rotation=15)
    ax.set_ylabel("performance (95 % bootstrap CI)")
    ax.legend(ncol=len(methods), fontsize=8)
    bars = save(plt, fig, out / "performance.png")

    fig, ax = plt.subplots(figsize=(5, 3.5))
    taus = profile_taus(np.asarray([c["performance"] for c in table]))
    for method in methods:
        scores = [c["performance"] for c in table if c["method"] == method]
        if scores:
            ax.step(taus, performance_profile(np.asarray(scores), taus), where="post",
                    label=method.upper(), **style[method])
    ax.set_xlabel("performance threshold τ")
    ax.set_ylabel("fraction of runs with performance > τ")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    profile = save(plt, fig, out / "performance_profile.png")

    fig, axes = panel_grid(plt, len(envs), 3.2, 3)
    for ax, env in zip(axes, envs):
        for method in methods:
            curves = [c["log"]["records"] for c in table
                      if c["env"] == env and c["method"] == method and c["log"].get("records")]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            x = [r["epoch"] for r in curves[0][:length]]
            y = np.mean([[r["validation_performance"] for r in c[:length]] for c in curves],
                        axis=0)
            ax.plot(x, y, label=method.upper(), **style[method])
        ax.set_title(results["envs"][env]["env_id"], fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation performance")
    _legend(fig, axes)
    curves_path = save(plt, fig, out / "learning_curves.png")
    return [bars, profile, curves_path]


def short_points(results: dict[str, Any]) -> dict[tuple[str, str, int], tuple[int, int]]:
    """Sample-efficiency points with fewer training seeds than the planned grid has.

    Maps ``(env, method, demos)`` to ``(seeds run, seeds planned)``. The plan is that of the
    results' families (``results["progress"]``); points outside every plan (a user's own grid,
    a probe) are never short.
    """
    families = (results.get("progress") or {}).get("families") or []
    planned: dict[tuple[str, str, int], int] = {}
    for method, env, demos, _ in planned_cells(families):
        planned[(env, method, demos)] = planned.get((env, method, demos), 0) + 1
    short = {}
    for env, methods in results["sample_efficiency"].items():
        for method, points in methods.items():
            for point in points:
                key = (env, method, int(point["demos"]))
                if len(point["seeds"]) < planned.get(key, 0):
                    short[key] = (len(point["seeds"]), planned[key])
    return short


def sample_efficiency_plot(plt: Any, results: dict[str, Any], out: Path) -> Path:
    """Performance against demonstration episodes (log axis), one panel per environment."""
    curves = results["sample_efficiency"]
    style = method_styles(_methods(results))
    short = short_points(results)
    fig, axes = panel_grid(plt, len(curves), 3.4, 3.2)
    for ax, (env, methods) in zip(axes, curves.items()):
        for method, points in methods.items():
            x = [p["demos"] for p in points]
            perf = [p["performance"] for p in points]
            ax.plot(x, [p["mean"] for p in perf], marker="o", markersize=3,
                    label=method.upper(), **style[method])
            ax.fill_between(x, [p["ci_low"] for p in perf], [p["ci_high"] for p in perf],
                            color=style[method]["color"], alpha=0.15, linewidth=0)
            for demos, p in zip(x, perf):
                if (env, method, int(demos)) in short:
                    ax.plot([demos], [p["mean"]], marker="o", markersize=6, linestyle="none",
                            markerfacecolor="white", color=style[method]["color"])
                    ax.annotate(str(short[(env, method, int(demos))][0]), (demos, p["mean"]),
                                textcoords="offset points", xytext=(4, 3), fontsize=6,
                                color=style[method]["color"])
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_title(results["envs"][env]["env_id"], fontsize=9)
        ax.set_xlabel("demonstration episodes")
        ax.set_ylabel("performance (95 % CI)")
    if short:
        fig.suptitle("hollow marker: fewer training seeds than planned (the number beside it); "
                     "the planned grid has not finished", fontsize=8)
    _legend(fig, axes)
    return save(plt, fig, out / "sample_efficiency.png")


def panel_grid(plt: Any, panels: int, width: float, height: float) -> tuple[Any, list[Any]]:
    """A figure of ``panels`` axes, ``width`` x ``height`` inches each.

    Rows hold at most :data:`MAX_COLUMNS` panels; the grid's cells left over are hidden.
    """
    columns = max(1, min(panels, MAX_COLUMNS))
    rows = max(1, -(-panels // columns))
    fig, grid = plt.subplots(rows, columns, figsize=(width * columns + 1.2, height * rows),
                             squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[panels:]:
        ax.set_visible(False)
    return fig, axes[:panels]


def _legend(fig: Any, axes: Sequence[Any]) -> None:
    """One legend for every method of the figure's panels (a panel may lack some).

    It sits right of the first row's last panel.
    """
    entries: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if entries:
        anchor = axes[min(len(axes), MAX_COLUMNS) - 1]
        anchor.legend(list(entries.values()), list(entries), fontsize=6,
                      loc="upper left", bbox_to_anchor=(1.02, 1.0))
