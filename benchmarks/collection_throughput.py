"""Collection throughput with a curated expert vs the raw random-action simulator rate.

usage: python benchmarks/collection_throughput.py [--envs cartpole,lunarlander] [--workers 2]
                                                  [--episodes 1000] [--repeats 3]

For each expert it prints:
* raw rate: ``workers`` processes stepping one environment each with random actions, nothing
  recorded (the simulator's speed limit with that many processes);
* collection rate: env steps per second of ``Controller.start(mode="play")`` with the expert
  (recording, staging to disk, batched inference), and the ratio to the raw rate;
* end-to-end: wall time of the CLI command ``il-datasets collect ENV --episodes N --workers W``
  in a fresh process (imports, play, collate, Parquet + npz writing, everything).
Best of ``repeats`` runs is reported for each figure; raw and collection runs alternate so that
both see the same background load.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imitation_datasets.controller import Controller
from imitation_datasets.core.rollout import make_env
from imitation_datasets.data.metadata import read_metadata
from imitation_datasets.experts import Experts
from imitation_datasets.functions import baseline_collate, baseline_enjoy


def _raw_worker(env_id: str, steps: int, seed: int, out: mp.Queue) -> None:
    env = make_env(env_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    out.put(time.perf_counter() - start)


def parallel_rate(worker, subject: str, workers: int, steps: int) -> float:
    """Aggregate steps/s of ``workers`` processes running ``worker(subject, steps, i, queue)``
    (each puts its seconds for ``steps`` steps): steps each / slowest time."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(subject, steps, i, out)) for i in range(workers)]
    for p in procs:
        p.start()
    times = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return workers * steps / max(times)


def raw_rate(env_id: str, workers: int, steps: int) -> float:
    """Aggregate random-action steps/s of ``workers`` processes (steps each / slowest time)."""
    return parallel_rate(_raw_worker, env_id, workers, steps)


def collection_rate(name: str, workers: int, episodes: int,
                    envs_per_worker: int | None = None) -> tuple[float, float, int]:
    """(steps/s of play, seconds of play, steps) for one fresh collection."""
    tmp = Path(tempfile.mkdtemp())
    try:
        controller = Controller(baseline_enjoy, baseline_collate, episodes=episodes,
                                workers=workers, path=tmp, progress=False,
                                envs_per_worker=envs_per_worker)
        start = time.perf_counter()
        controller.start({"game": name, "mode": "play"})
        seconds = time.perf_counter() - start
        controller.start({"game": name, "mode": "collate"})
        steps = read_metadata(tmp / name)["total_steps"]
        return steps / seconds, seconds, steps
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def end_to_end(name: str, workers: int, episodes: int) -> float:
    """Wall seconds of the CLI command in a fresh interpreter."""
    tmp = Path(tempfile.mkdtemp())
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "imitation_datasets", "collect", name,
                        "--episodes", str(episodes), "--workers", str(workers),
                        "--out", str(tmp / name), "--quiet"], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """Print the figures as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", default="cartpole,lunarlander")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--raw-steps", type=int, default=200_000)
    args = parser.parse_args()
    print(f"workers={args.workers} episodes={args.episodes} (best of {args.repeats})\n")
    print("| expert | env | raw random steps/s | collection steps/s | ratio | "
          "play s | end-to-end CLI s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.envs.split(","):
        env_id = Experts.get_expert(name).env_id
        raws, runs = [], []
        for _ in range(args.repeats):  # interleaved, so both see the same background load
            raws.append(raw_rate(env_id, args.workers, args.raw_steps))
            runs.append(collection_rate(name, args.workers, args.episodes))
        raw = max(raws)
        rate, seconds, _ = max(runs)
        e2e = min(end_to_end(name, args.workers, args.episodes) for _ in range(args.repeats))
        print(f"| {name} | {env_id} | {raw:,.0f} | {rate:,.0f} | {rate / raw:.0%} | "
              f"{seconds:.2f} | {e2e:.2f} |", flush=True)


if __name__ == "__main__":
    main()
