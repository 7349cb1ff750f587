"""Throughput of the Ray backend (N actors) vs the local backend (N worker processes).

usage: python benchmarks/ray_overhead.py [--workers 2] [--repeats 3]

Collections (play phase only, timed from the first episode request to the last staged file):
* CartPole-v1 with the curated expert, 1000 episodes of 500 steps;
* HalfCheetah-v5 (1000-step episodes) with the curated expert if one is registered, else
  seeded random actions, 400 episodes.
Both include the workers' start-up: forked local workers inherit the imported modules, while a
Ray actor is a fresh process that imports them (about 1-2 s), which short collections feel.
Ray is started once before timing (its start-up is not collection time), with its workers at the
local workers' priority; the actors, which load the expert once, are created inside the timed
region, like the local workers.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from imitation_datasets.controller import Controller
from imitation_datasets.core.names import UnknownNameError
from imitation_datasets.experts import CallablePolicy, Experts
from imitation_datasets.functions import baseline_collate, baseline_enjoy, random_enjoy


def timed_play(backend: str, workers: int, episodes: int, expert: object, enjoy: object) -> float:
    """Seconds of ``mode="play"`` for a fresh collection."""
    tmp = Path(tempfile.mkdtemp())
    try:
        controller = Controller(enjoy, baseline_collate, episodes=episodes, workers=workers,
                                path=tmp, expert=expert, progress=False, backend=backend)
        start = time.perf_counter()
        controller.start({"game": "bench", "mode": "play"})
        return time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Print a Markdown table of steps/s per backend and the Ray overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import ray

    # Ray runs its workers at nice 15 by default; on a machine shared with other jobs that alone
    # halves their share of the CPU, so compare at the local workers' priority (nice 0).
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
             _system_config={"worker_niceness": 0})
    try:
        cheetah = Experts.get_expert("cheetah")
        cheetah_enjoy, cheetah_label = baseline_enjoy, "expert"
    except UnknownNameError:
        cheetah = CallablePolicy(lambda obs: None, "HalfCheetah-v5", name="random")
        cheetah_enjoy, cheetah_label = random_enjoy, "random actions"
    cases = [
        ("CartPole-v1 (expert)", Experts.get_expert("cartpole"), baseline_enjoy, 1000, 500),
        (f"HalfCheetah-v5 ({cheetah_label})", cheetah, cheetah_enjoy, 400, 1000),
    ]
    print(f"workers/actors = {args.workers}, best of {args.repeats}\n")
    print("| collection | episodes | local steps/s | Ray steps/s | Ray overhead |")
    print("|---|---|---|---|---|")
    for label, expert, enjoy, episodes, length in cases:
        local = min(timed_play("local", args.workers, episodes, expert, enjoy)
                    for _ in range(args.repeats))
        remote = min(timed_play("ray", args.workers, episodes, expert, enjoy)
                     for _ in range(args.repeats))
        steps = episodes * length
        print(f"| {label} | {episodes} | {steps / local:,.0f} | {steps / remote:,.0f} | "
              f"{remote / local - 1:+.0%} |", flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
