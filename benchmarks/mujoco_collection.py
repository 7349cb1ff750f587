"""Collection throughput with curated MuJoCo experts vs the raw random-action simulator rate.

usage: python benchmarks/mujoco_collection.py [--envs hopper,cheetah] [--workers 2]
                                              [--episodes 50] [--min-steps 50000]
                                              [--repeats 3] [--envs-per-worker N] [--no-cli]

Same measurements as ``benchmarks/collection_throughput.py`` (whose functions it reuses), with
defaults suited to 1000-step MuJoCo episodes:

* raw rate: ``workers`` processes stepping one environment each with random actions, nothing
  recorded (the simulator's speed limit with that many processes);
* expert-only rate: the same processes stepping with the expert's actions (one unbatched
  policy call per step, ``raw-steps / 2`` steps each), nothing recorded: the simulator's speed
  on the states the expert visits. Contact-rich gaits (a walking Humanoid) cost more per step
  than random actions that fall in a few dozen steps, so this is the fair speed limit where the
  raw rate is not;
* collection rate: env steps per second of ``Controller.start(mode="play")`` with the expert
  (recording, staging to disk, batched NumPy inference), and its ratio to the raw rate (issue 5
  asks for >= 80 %) and to the expert-only rate; only accepted episodes count, so retries lower
  the rate;
* end-to-end: wall time of ``il-datasets collect ENV --episodes N --workers W`` in a fresh
  process (``--no-cli`` skips it).

``--envs-per-worker N`` sets the Controller's batch (default: its own, 4 for MuJoCo envs); the
comparison with 16 is what chose that default. Envs with short episodes (Reacher: 50 steps)
collect more episodes, enough for ``--min-steps`` steps at the card's mean episode length. Best
of ``repeats`` runs is reported for each figure. Experts not shipped yet are skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collection_throughput import (  # noqa: E402
    collection_rate,
    end_to_end,
    parallel_rate,
    raw_rate,
)

from imitation_datasets.core.names import UnknownNameError  # noqa: E402
from imitation_datasets.core.rollout import make_env  # noqa: E402
from imitation_datasets.experts import Experts  # noqa: E402

DEFAULT_ENVS = ("hopper,cheetah,walker,ant,humanoid,swimmer,inverteddoublependulum,reacher,"
                "bipedalwalker")


def _expert_worker(name: str, steps: int, seed: int, out: Any) -> None:
    expert = Experts.get_expert(name)
    env = make_env(expert.env_id, expert.env_kwargs)
    obs, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(expert.predict(obs)[0])
        if terminated or truncated:
            obs, _ = env.reset()
    out.put(time.perf_counter() - start)


def expert_rate(name: str, workers: int, steps: int) -> float:
    """Aggregate expert-action steps/s of ``workers`` processes (steps each / slowest time)."""
    return parallel_rate(_expert_worker, name, workers, steps)


def main() -> None:
    """Print the figures as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default=DEFAULT_ENVS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--min-steps", type=int, default=50_000,
                        help="collect at least this many steps (short-episode envs)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--raw-steps", type=int, default=100_000)
    parser.add_argument("--envs-per-worker", type=int, default=None,
                        help="Controller batch (default: the Controller's default)")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI timing")
    args = parser.parse_args()
    if importlib.util.find_spec("mujoco") is None:
        sys.exit("mujoco is not installed: pip install -e '.[mujoco]'")
    print(f"workers={args.workers} episodes={args.episodes} or >= {args.min_steps} steps "
          f"envs_per_worker={args.envs_per_worker or 'default'} (best of {args.repeats})\n")
    print("| expert | env | expert return (card) | quality | raw random steps/s | "
          "expert-only steps/s | collection steps/s | vs raw | vs expert-only | play s | "
          "end-to-end CLI s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.envs.split(","):
        try:
            expert = Experts.get_expert(name)
        except UnknownNameError:
            print(f"| {name} | not shipped yet | | | | | | | | | |", flush=True)
            continue
        card = expert.card
        episodes = max(args.episodes, math.ceil(args.min_steps / card.evaluation.length_mean))
        raw = max(raw_rate(expert.env_id, args.workers, args.raw_steps)
                  for _ in range(args.repeats))
        sim = max(expert_rate(name, args.workers, args.raw_steps // 2)
                  for _ in range(args.repeats))
        runs = [collection_rate(name, args.workers, episodes, args.envs_per_worker)
                for _ in range(args.repeats)]
        rate, seconds, _ = max(runs)
        e2e = ""
        if not args.no_cli:
            best = min(end_to_end(name, args.workers, episodes)
                       for _ in range(args.repeats))
            e2e = f"{best:.2f}"
        print(f"| {name} | {expert.env_id} | {card.evaluation.return_mean:.1f} | {card.quality} "
              f"| {raw:,.0f} | {sim:,.0f} | {rate:,.0f} | {rate / raw:.0%} | {rate / sim:.0%} "
              f"| {seconds:.2f} | {e2e} |",
              flush=True)


if __name__ == "__main__":
    main()
