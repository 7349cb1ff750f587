"""The planned grids, one per environment family, and what of them a results folder holds.

A grid is fixed before it runs (the issues that asked for it say which methods, envs,
demonstration counts and seeds); the report counts every planned cell that has not run, so a
grid stopped early, or never started for some method, shows as such instead of shrinking the
protocol silently. ``benchmarks/grid_plan.py`` prints the cost of a grid from measured cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from imitation_datasets.benchmark.options import METHODS
from imitation_datasets.benchmark.protocol import cell_demos_count, env_families, is_probe

OFFLINE = ("bc", "dagger", "bco", "abco", "iupe", "iq_learn_offline")
"""Methods that learn from the datasets (and, for DAgger, the expert's labels), or whose
interaction is the BCO family's own: the continuous grid runs them everywhere."""
ONLINE = ("gail", "gaifo", "airl", "sqil", "iq_learn_online")
"""Adversarial and soft-Q methods, which need a large environment-step budget."""


@dataclass(frozen=True)
class GridBlock:
    """Every (method, env, demonstration count, seed) combination of these values."""

    methods: tuple[str, ...]
    envs: tuple[str, ...]
    demos: tuple[int, ...]
    seeds: int

    def cells(self) -> list[tuple[str, str, int, int]]:
        """``(method, env, demos, seed)`` of every cell of the block."""
        return [(m, e, d, s) for s in range(self.seeds) for d in self.demos for e in self.envs
                for m in self.methods]


def _family(name: str) -> tuple[str, ...]:
    return tuple(env_families()[name])


CURVES = (1, 5, 10, 25)
CONTINUOUS_CURVES = (1, 5, 25, 100)
BIG_FOUR = ("hopper", "cheetah", "walker", "ant")
CHEAP = ("invertedpendulum", "inverteddoublependulum", "swimmer", "reacher")


def grids() -> dict[str, tuple[GridBlock, ...]]:
    """The planned grid of each family.

    * classic (issue 14): every method on the six envs at the protocol's 100 demonstrations,
      and on 1, 5, 10, 25 demonstrations on CartPole, Acrobot, LunarLander and Pendulum; 5 seeds.
    * mujoco and box2d (issue 15): the offline methods on every env at 1, 5, 25 and 100
      demonstrations; the online methods at 1 and 25 demonstrations on Hopper, HalfCheetah,
      Walker2d and Ant and on the cheap envs (InvertedPendulum, InvertedDoublePendulum,
      Swimmer, Reacher, LunarLanderContinuous); 5 seeds everywhere (the issue's floor for the
      four big envs' online cells is 3: the report shows how many ran).
    """
    classic = _family("classic")
    return {
        "classic": (GridBlock(METHODS, classic, (100,), 5),
                    GridBlock(METHODS, ("cartpole", "acrobot", "lunarlander", "pendulum"),
                              CURVES, 5)),
        "mujoco": (GridBlock(OFFLINE, _family("mujoco"), CONTINUOUS_CURVES, 5),
                   GridBlock(ONLINE, BIG_FOUR + CHEAP, (1, 25), 5)),
        "box2d": (GridBlock(OFFLINE, _family("box2d"), CONTINUOUS_CURVES, 5),
                  GridBlock(ONLINE, ("lunarlandercontinuous",), (1, 25), 5)),
    }


def planned_cells(families: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """Every planned ``(method, env, demos, seed)`` of ``families``, without repeats."""
    plan = grids()
    return list(dict.fromkeys(c for f in families for block in plan[f] for c in block.cells()))


def progress(cells: Sequence[dict[str, Any]], envs: dict[str, dict[str, Any]]
             ) -> dict[str, Any]:
    """How much of the planned grid of the folder's families has run.

    The families are those with an environment among ``envs``. Returns the families, the
    planned and finished counts, and per (method, demos) the finished and planned cells.
    A probe's folder (:func:`~.protocol.is_probe`) plans nothing.
    """
    families = [f for f, members in env_families().items()
                if set(members) & set(envs)] if not is_probe(cells) else []
    done = {(c["method"], c["env"], cell_demos_count(c, envs[c["env"]]), c["seed"])
            for c in cells}
    table: dict[str, dict[str, list[int]]] = {}
    planned = planned_cells(families)
    for method, env, demos, seed in planned:
        entry = table.setdefault(method, {}).setdefault(str(demos), [0, 0])
        entry[1] += 1
        entry[0] += (method, env, demos, seed) in done
    return {"families": families, "planned": len(planned),
            "finished": sum(e[0] for m in table.values() for e in m.values()),
            "by_method": table}


def progress_lines(results: dict[str, Any]) -> list[str]:
    """Markdown lines: finished / planned cells per method and demonstration count."""
    p = results.get("progress")
    if not p or not p.get("planned"):
        return []
    counts = sorted({int(d) for m in p["by_method"].values() for d in m}, key=int)
    lines = ["", f"Planned grid ({', '.join(p['families'])}; `imitation_datasets.benchmark."
             f"plan`): {p['finished']} of {p['planned']} cells finished. Finished / planned "
             "cells by method and demonstration episodes (a planned cell not finished has not "
             "run; nothing is dropped from the plan):", "",
             "| Method | " + " | ".join(str(n) for n in counts) + " |",
             "|---|" + "---|" * len(counts)]
    for method, by_demos in p["by_method"].items():
        row = [f"{by_demos[str(n)][0]} / {by_demos[str(n)][1]}" if str(n) in by_demos else "–"
               for n in counts]
        lines.append(f"| {method.upper()} | " + " | ".join(row) + " |")
    return lines + [""]

