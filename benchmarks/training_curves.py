"""Validation curves of the resumable expert trainings, from their committed ``progress.csv``.

Every resumable recipe (ARS-numpy) appends one row per validation to
``src/imitation_zoo/checkpoints/KEY/progress.csv``. This prints, per recipe, the shipped card's
100-episode return, the best and last validations, the steps and wall time trained so far, the
recent slope (return gained per million steps over the last ``--window`` validations) and, for a
recipe whose card is below its target, the extra steps and hours that slope would need at the
last segment's speed (a linear extrapolation: too low if the curve flattens, too high if it
steepens). With ``--png`` it also draws the curves and targets.

Usage::

    python benchmarks/training_curves.py [--keys humanoid,walker] [--window 4] [--png curves.png]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from imitation_datasets.experts.curated import ZOO_DIR
from imitation_zoo.recipe import CHECKPOINTS_DIR, load_recipe


def read_curve(folder: Path) -> dict[str, np.ndarray]:
    """The columns of ``folder/progress.csv`` as float arrays."""
    if not (folder / "progress.csv").is_file():
        raise SystemExit(f"{folder.name}: no committed progress.csv (only resumable recipes "
                         "keep their curve in the repository)")
    with (folder / "progress.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f"{folder / 'progress.csv'} has no validation yet")
    return {name: np.array([float(r[name]) for r in rows])
            for name in ("timesteps", "val_mean", "val_std", "best_mean", "elapsed_s")}


def summary(key: str, window: int) -> dict:
    """Figures for one recipe (see the module docstring)."""
    folder = CHECKPOINTS_DIR / key
    curve = read_curve(folder)
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    target = float(load_recipe(key).target)
    steps, returns = curve["timesteps"], curve["val_mean"]
    recent = slice(max(0, len(steps) - window), len(steps))
    slope = (float(np.polyfit(steps[recent] / 1e6, returns[recent], 1)[0])
             if len(steps[recent]) >= 2 else float("nan"))
    segments = state.get("segments", [])
    last = segments[-1] if segments else {}
    seg_steps = last.get("to_timesteps", 0) - last.get("from_timesteps", 0)
    speed = seg_steps / last["wall_time_s"] if last.get("wall_time_s") else float("nan")
    best = float(curve["best_mean"][-1])
    card_path = ZOO_DIR / f"{key}.json"
    card = (json.loads(card_path.read_text(encoding="utf-8"))["evaluation"]["return_mean"]
            if card_path.is_file() else float("nan"))
    out = {"key": key, "target": target, "validations": len(steps), "best": best, "card": card,
           "last": float(returns[-1]), "steps": int(state["timesteps"]),
           "hours": float(state["wall_time_s"]) / 3600, "slope_per_M": slope,
           "steps_per_s": speed, "workers": last.get("workers"), "curve": curve}
    if not card >= target and slope > 0:
        extra = (target - best) / slope * 1e6
        out["extra_steps"] = extra
        out["extra_hours"] = extra / speed / 3600 if speed == speed else float("nan")
    return out


def plot(rows: list[dict], path: Path) -> None:
    """One panel per recipe: validation mean ± std against steps, and the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(4.5 * len(rows), 3.4), squeeze=False)
    for ax, row in zip(axes[0], rows):
        curve = row["curve"]
        x = curve["timesteps"] / 1e6
        ax.plot(x, curve["val_mean"], marker=".", label="validation")
        ax.fill_between(x, curve["val_mean"] - curve["val_std"],
                        curve["val_mean"] + curve["val_std"], alpha=0.25)
        ax.axhline(row["target"], color="k", linestyle="--", linewidth=1, label="target")
        ax.set(title=row["key"], xlabel="env steps (M)", ylabel="mean return")
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Print the table (and draw the PNG)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", default=None,
                        help="comma-separated recipe keys (default: every checkpoint folder)")
    parser.add_argument("--window", type=int, default=4,
                        help="validations used for the recent slope")
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args(argv)
    keys = (args.keys.split(",") if args.keys else
            sorted(p.name for p in CHECKPOINTS_DIR.iterdir() if (p / "progress.csv").is_file()))
    rows = [summary(key, args.window) for key in keys]
    print("| recipe | target | shipped card | best validation | last | steps | hours trained | "
          "steps/s (last segment, workers) | slope per 1M steps | to target at that slope |")
    print("|---" * 10 + "|")
    for r in rows:
        if r["card"] >= r["target"]:
            todo = "reached"
        elif "extra_steps" in r:
            todo = f"~{r['extra_steps'] / 1e6:.0f}M steps, ~{r['extra_hours']:.1f} h"
        else:
            todo = "no upward trend"
        print(f"| {r['key']} | {r['target']:g} | {r['card']:.1f} | {r['best']:.1f} | "
              f"{r['last']:.1f} | "
              f"{r['steps'] / 1e6:.1f}M | {r['hours']:.2f} | {r['steps_per_s']:,.0f} "
              f"({r['workers']}) | {r['slope_per_M']:+.1f} | {todo} |")
    if args.png is not None:
        plot(rows, args.png)
        print(f"\nwrote {args.png}")


if __name__ == "__main__":
    sys.exit(main())
