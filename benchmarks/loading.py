"""Loading benchmark: time and peak memory of ``BaselineDataset`` on a 1M-transition dataset.

Builds a synthetic dataset shaped like HalfCheetah (1000 episodes x 1000 steps, obs 17 float32,
action 6 float32) with our writer, then, each in a fresh subprocess:

* ``BaselineDataset(path)``: wall time and peak RSS above the interpreter's RSS after imports
  (the peak is ``VmHWM`` after resetting it with ``/proc/self/clear_refs``, so a transient peak
  during the imports cannot hide the load's; ``ru_maxrss`` where that is not possible), compared
  with the raw bytes of the arrays; also the fixed part, measured on a 10 x 10 dataset;
* ``DataLoader(dataset, batch_size=B, shuffle=True)`` (the paper's path, batched through
  ``__getitems__``) and ``dataset.batches(B)``, one shuffled epoch each, interleaved
  ``--repeat`` times for each B of ``--batch-sizes`` (256 and 1024) in one process with one
  torch thread (so both see the same machine load; min / median / max printed, with the load
  average), then the
  DataLoader fetching item by item (``__getitems__`` disabled, the path before it);
* a 500k-step CartPole ``teacher.npz`` in the original layout (the original IL-Datasets took
  43.6 s and 20.4 GB RSS to load it).

Usage::

    python benchmarks/loading.py [--episodes 1000] [--steps 1000] [--dir /tmp/il-bench] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def build_halfcheetah_like(directory: Path, episodes: int, steps: int, seed: int = 0) -> Path:
    """A synthetic dataset with HalfCheetah's shapes, written with ``write_parquet``."""
    import gymnasium as gym

    from imitation_datasets.data.arrays import DatasetArrays
    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.data.parquet import write_parquet
    from imitation_datasets.data.schema import space_to_dict

    rng = np.random.default_rng(seed)
    total = episodes * steps
    lengths = np.full(episodes, steps, dtype=np.int64)
    truncated = np.zeros(total, dtype=bool)
    truncated[np.cumsum(lengths) - 1] = True
    arrays = DatasetArrays(
        obs=rng.standard_normal((total, 17), dtype=np.float32),
        actions=rng.uniform(-1, 1, (total, 6)).astype(np.float32),
        rewards=rng.standard_normal(total),
        terminated=np.zeros(total, dtype=bool),
        truncated=truncated,
        lengths=lengths,
        final_obs=rng.standard_normal((episodes, 17), dtype=np.float32),
        seeds=np.arange(episodes, dtype=np.int64),
        attempts=np.ones(episodes, dtype=np.int64),
    )
    obs_space = gym.spaces.Box(-np.inf, np.inf, (17,), np.float32)
    act_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
    metadata = build_metadata(
        arrays,
        env={"id": "HalfCheetah-v5", "kwargs": {}, "spec": None, "max_episode_steps": steps,
             "observation_space": space_to_dict(obs_space),
             "action_space": space_to_dict(act_space)},
        expert={"kind": "synthetic"},
        collection={"dataset_seed": seed, "episodes": episodes},
        acceptance={},
        reference={"random_return_mean": -280.0, "expert_return_mean": 12000.0},
        creation={"command": "benchmarks/loading.py"},
    )
    write_parquet(directory, arrays, metadata)
    return directory


def build_cartpole_npz(path: Path, steps: int = 500_000, seed: int = 0) -> Path:
    """A 500k-step CartPole ``teacher.npz`` in the original layout (episodes of 500 steps)."""
    rng = np.random.default_rng(seed)
    starts = np.zeros(steps, dtype=bool)
    starts[::500] = True
    rewards = np.ones(steps)
    np.savez(path, obs=rng.standard_normal((steps, 4), dtype=np.float32),
             actions=rng.integers(0, 2, steps), rewards=rewards,
             episode_returns=np.full(starts.sum(), 500.0), episode_starts=starts)
    return path


CHILD = r"""
import json, os, resource, sys, time
import torch
from imitation_datasets.dataset import BaselineDataset
path, sizes, mode = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3]


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB


try:  # reset the high-water mark, so the imports' own transient peak does not hide the load's
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    base, method = status("VmRSS"), "VmHWM after clear_refs"
except OSError:
    base, method = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"
start = time.perf_counter()
dataset = BaselineDataset(path)
load_s = time.perf_counter() - start
peak = status("VmHWM") if method.startswith("VmHWM") else \
    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
arrays = dataset.arrays
raw = sum(getattr(arrays, k).nbytes for k in ("obs", "actions", "rewards", "terminated",
                                              "truncated"))
raw += 0 if arrays.final_obs is None else arrays.final_obs.nbytes
out = {"load_s": load_s, "peak_rss_above_baseline_mb": (peak - base) / 1024,
       "baseline_rss_mb": base / 1024, "raw_mb": raw / 2**20, "transitions": len(dataset),
       "method": method}
if mode == "full":
    torch.set_num_threads(1)
    repeat = int(sys.argv[4])

    def batches_rate(size):
        start, seen = time.perf_counter(), 0
        for states, actions, next_states in dataset.batches(size, seed=0):
            seen += len(states)
        return seen / (time.perf_counter() - start)

    def loader_rate(data, size, limit=None):
        loader = torch.utils.data.DataLoader(data, batch_size=size, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        start, seen = time.perf_counter(), 0
        for states, actions, next_states in loader:
            seen += len(states)
            if limit is not None and seen >= limit:
                break
        return seen / (time.perf_counter() - start)

    out["loadavg_before"] = os.getloadavg()
    for size in sizes:  # one epoch each, interleaved, so both see the same load
        runs = [(loader_rate(dataset, size), batches_rate(size)) for _ in range(repeat)]
        out[f"dataloader_{size}"] = [r[0] for r in runs]
        out[f"batches_{size}"] = [r[1] for r in runs]
    out["loadavg_after"] = os.getloadavg()
    dataset.__getitems__ = None  # torch's fetcher then calls dataset[i] per index (the old path)
    out["per_item_per_s"] = loader_rate(dataset, 256, limit=51_200)
print(json.dumps(out))
"""


def measure(path: Path, sizes: list[int], mode: str, repeat: int = 1) -> dict:
    """Run the measurement in a fresh interpreter (no cached pages of the Python heap)."""
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), ",".join(map(str, sizes)),
                             mode, str(repeat)], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _spread(rates: list[float]) -> str:
    return (f"{min(rates) / 1e6:.2f} / {statistics.median(rates) / 1e6:.2f} / "
            f"{max(rates) / 1e6:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--dir", type=Path, default=None, help="where to build the datasets")
    parser.add_argument("--repeat", type=int, default=5,
                        help="load and throughput measurements")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="il-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    cheetah = root / f"halfcheetah-like-{args.episodes}x{args.steps}"
    if not (cheetah / "metadata.json").exists():
        start = time.perf_counter()
        build_halfcheetah_like(cheetah, args.episodes, args.steps)
        print(f"built {cheetah} in {time.perf_counter() - start:.1f} s")
    npz = root / "cartpole-500k.npz"
    if not npz.exists():
        build_cartpole_npz(npz)
    size = sum(f.stat().st_size for f in cheetah.iterdir()) / 2**20
    print(f"dataset: {args.episodes} episodes x {args.steps} steps, obs 17 float32, "
          f"action 6 float32 ({size:.1f} MiB on disk); python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    tiny = root / "tiny-10x10"
    if not (tiny / "metadata.json").exists():
        build_halfcheetah_like(tiny, 10, 10)
    fixed = measure(tiny, args.batch_sizes, "load")["peak_rss_above_baseline_mb"]
    loads = [measure(cheetah, args.batch_sizes, "load") for _ in range(args.repeat)]
    best = min(loads, key=lambda r: r["load_s"])
    full = measure(cheetah, args.batch_sizes, "full", args.repeat)
    ratio = max(r["peak_rss_above_baseline_mb"] for r in loads) / best["raw_mb"]
    print(f"BaselineDataset load ({best['transitions']:,} transitions): "
          f"{best['load_s']:.3f} s best of {args.repeat} "
          f"({', '.join(format(r['load_s'], '.3f') for r in loads)})")
    peak = max(r["peak_rss_above_baseline_mb"] for r in loads)
    print(f"peak RSS above baseline: {peak:.1f} MiB for {best['raw_mb']:.1f} MiB of arrays "
          f"({ratio:.2f}x; interpreter baseline {best['baseline_rss_mb']:.0f} MiB after imports; "
          f"{best['method']})")
    print(f"  of which fixed (first Parquet read, same for a 10x10 dataset): {fixed:.1f} MiB; "
          f"size-dependent: {peak - fixed:.1f} MiB ({(peak - fixed) / best['raw_mb']:.2f}x)")
    print(f"one epoch of shuffled batches, one torch thread, {args.repeat} interleaved repeats "
          f"(min / median / max, M transitions/s); load average "
          f"{', '.join(f'{x:.1f}' for x in full['loadavg_before'])} before, "
          f"{', '.join(f'{x:.1f}' for x in full['loadavg_after'])} after, {os.cpu_count()} CPUs:")
    for size in args.batch_sizes:
        loader, ours = full[f"dataloader_{size}"], full[f"batches_{size}"]
        print(f"  batch {size}: DataLoader(BaselineDataset, batch_size={size}, shuffle=True) "
              f"{_spread(loader)}; dataset.batches({size}) {_spread(ours)}; "
              f"DataLoader / batches {statistics.median(loader) / statistics.median(ours):.2f}")
    print(f"  per-item fetch (__getitems__ disabled, the path before it), batch 256: "
          f"{full['per_item_per_s'] / 1e3:.0f} k transitions/s")
    npz_result = measure(npz, args.batch_sizes, "load")
    print(f"original-layout CartPole teacher.npz, 500k steps: {npz_result['load_s']:.3f} s, "
          f"peak RSS above baseline {npz_result['peak_rss_above_baseline_mb']:.1f} MiB "
          f"(original IL-Datasets: 43.6 s, 20.4 GB)")


if __name__ == "__main__":
    main()
