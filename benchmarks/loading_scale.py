"""Loading at scale: load time, peak RSS and loader throughput vs dataset size (1M, 10M, 20M).

Builds synthetic HalfCheetah-shaped datasets (episodes of 1000 steps, obs 17 float64, action 6
float32) as *mapped* folders (``steps/*.npy``, written episode by episode with
``data.mapped_writer.MappedWriter``: the builder never holds a dataset in memory), plus Parquet
folders (``steps.parquet``, read into memory) at the smaller sizes for contrast. Then, each in a
fresh interpreter (``torch.set_num_threads(1)``):

* ``BaselineDataset(path)``: wall time, and peak RSS above the interpreter's RSS after imports
  (``VmHWM`` after resetting it with ``/proc/self/clear_refs``; RSS counts the mapped file pages
  the process touched, not only its own allocations);
* the paper's path ``DataLoader(dataset, batch_size=B, shuffle=True)``: transitions/s, side by
  side with the per-item path it replaced (the same loader with ``__getitems__`` disabled) and
  with ``dataset.batches(B)``; peak RSS of a full shuffled pass (a global permutation touches
  every page of the file: the kernel's page cache, counted in RSS while mapped);
* ``dataset.batches(B, window=W)``: a full epoch shuffled by windows of ``W`` rows, releasing the
  mapped pages after each window: throughput and peak RSS (bounded by the window, whatever the
  dataset's size);
* ``DataLoader(dataset, batch_sampler=dataset.batch_sampler(B, window=W))``: the same order
  through torch's DataLoader, a full epoch with ``num_workers=0`` (throughput, peak RSS) and with
  ``--workers N`` worker processes (throughput, the main process's peak RSS and the largest
  worker's peak above its RSS when it started, reported by the worker with each batch).

Usage::

    python benchmarks/loading_scale.py [--sizes 1,10,20] [--parquet-sizes 1,10] [--dir DIR]
        [--keep] [--workers 2]

Needs about 3.4 GB of disk per 20M steps (``df -h``); the datasets are deleted at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEPS = 1000
CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from torch.utils.data import DataLoader, default_collate
from imitation_datasets.data.torch_dataset import BaselineDataset

path, mode = sys.argv[1], sys.argv[3]
batch, limit, window, workers = (int(sys.argv[i]) for i in (2, 4, 5, 6))


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024


def reset_peak():
    open("/proc/self/clear_refs", "w").write("5")
    return status("VmRSS")


class PerItem(BaselineDataset):
    __getitems__ = None  # torch's fetcher then calls dataset[i] for each index (the old path)


worker_peaks = [0]


def rate(iterable, limit):
    start, seen = time.perf_counter(), 0
    for batch in iterable:
        if mode == "sampler-workers":  # (batch, the worker's peak so far)
            batch, worker_peak = batch
            worker_peaks.append(worker_peak)
        seen += len(batch[0])
        if seen >= limit:
            break
    return seen / (time.perf_counter() - start)


def worker_start(_):  # in each worker: its peak counts from its RSS now
    global worker_base
    worker_base = reset_peak()


def collate_with_peak(items):  # in the worker: the batch and the worker's peak above its start
    return default_collate(items), status("VmHWM") - worker_base


base = interpreter = reset_peak()
start = time.perf_counter()
dataset = (PerItem if mode == "per-item" else BaselineDataset)(path)
out = {"load_s": time.perf_counter() - start, "load_peak_mb": (status("VmHWM") - base) / 2**20,
       "transitions": len(dataset)}
generator = torch.Generator().manual_seed(0)
if mode == "per-item":
    out["rate"] = rate(DataLoader(dataset, batch_size=batch, shuffle=True, generator=generator),
                       limit)
elif mode == "dataloader":
    out["rate"] = rate(DataLoader(dataset, batch_size=batch, shuffle=True, generator=generator),
                       limit)
    out["full_pass_rate"] = rate(DataLoader(dataset, batch_size=batch, shuffle=True,
                                            generator=generator), len(dataset))
    out["full_pass_peak_mb"] = (status("VmHWM") - interpreter) / 2**20
elif mode == "batches":
    out["rate"] = rate(dataset.batches(batch, seed=0), limit)
elif mode == "window":
    out["rate"] = rate(dataset.batches(batch, seed=0, window=window), len(dataset))
    out["peak_mb"] = (status("VmHWM") - interpreter) / 2**20
elif mode.startswith("sampler"):
    sampler = dataset.batch_sampler(batch, seed=0, window=window)
    many = mode == "sampler-workers"
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers if many else 0,
                        worker_init_fn=worker_start if many else None,
                        collate_fn=collate_with_peak if many else None)
    out["rate"] = rate(loader, len(dataset))
    out["peak_mb"] = (status("VmHWM") - interpreter) / 2**20
    out["worker_peak_mb"] = max(worker_peaks) / 2**20
print(json.dumps(out))
"""


def synthetic_metadata(arrays: object) -> dict:
    """Our metadata for the synthetic arrays (HalfCheetah's spaces, float64 observations)."""
    import gymnasium as gym

    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.data.schema import space_to_dict

    obs_space = gym.spaces.Box(-np.inf, np.inf, (17,), np.float64)
    act_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
    return build_metadata(
        arrays,
        env={"id": "HalfCheetah-v5", "kwargs": {}, "spec": None, "max_episode_steps": STEPS,
             "observation_space": space_to_dict(obs_space),
             "action_space": space_to_dict(act_space)},
        expert={"kind": "synthetic"}, collection={"dataset_seed": 0}, acceptance={},
        reference={}, creation={"command": "benchmarks/loading_scale.py"})


def episodes(count: int):
    """Synthetic episodes, generated one at a time (seeded)."""
    from imitation_datasets.core.episode import Episode

    rng = np.random.default_rng(0)
    for index in range(count):
        yield Episode(rng.standard_normal((STEPS, 17)),
                      rng.uniform(-1, 1, (STEPS, 6)).astype(np.float32),
                      rng.standard_normal(STEPS), rng.standard_normal(17), False, True,
                      seed=index, index=index)


def build_mapped(directory: Path, millions: int) -> None:
    from imitation_datasets.data.mapped_writer import MappedWriter

    count = millions * 1_000_000 // STEPS
    with MappedWriter(directory, count * STEPS) as writer:
        for episode in episodes(count):
            writer.add(episode)
        writer.finish(synthetic_metadata)


def build_parquet(directory: Path, millions: int) -> None:
    from imitation_datasets.data.arrays import DatasetArrays
    from imitation_datasets.data.parquet import write_parquet

    arrays = DatasetArrays.from_episodes(list(episodes(millions * 1_000_000 // STEPS)))
    write_parquet(directory, arrays, synthetic_metadata(arrays))


def measure(path: Path, batch: int, mode: str, limit: int, window: int, workers: int = 0
            ) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, str(path), str(batch), mode,
                             str(limit), str(window), str(workers)], check=True,
                            capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,20", help="millions of steps, mapped")
    parser.add_argument("--parquet-sizes", default="1,10", help="millions of steps, Parquet")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--window", type=int, default=1 << 20, help="rows per window")
    parser.add_argument("--limit", type=int, default=2_000_000,
                        help="transitions timed per throughput figure")
    parser.add_argument("--workers", type=int, default=2,
                        help="DataLoader worker processes of the windowed sampler's second run "
                             "(0: skip it)")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="il-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, batch {args.batch_size}, "
          f"window {args.window} rows; obs 17 float64, action 6 float32, episodes of {STEPS}")
    try:
        for kind, sizes, build in (("mapped", args.sizes, build_mapped),
                                   ("parquet", args.parquet_sizes, build_parquet)):
            for millions in [int(s) for s in sizes.split(",") if s]:
                path = root / f"{kind}-{millions}M"
                if not (path / "metadata.json").exists():
                    start = time.perf_counter()
                    build(path, millions)
                    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
                    print(f"built {path.name} in {time.perf_counter() - start:.1f} s "
                          f"({size / 2**30:.2f} GiB)", flush=True)
                report(path, kind, millions, args)
                if not args.keep:
                    shutil.rmtree(path)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


def report(path: Path, kind: str, millions: int, args: argparse.Namespace) -> None:
    batch, limit, window = args.batch_size, args.limit, args.window
    loads = [measure(path, batch, "load", 0, window) for _ in range(3)]
    best = min(r["load_s"] for r in loads)
    peak = max(r["load_peak_mb"] for r in loads)
    per_item = measure(path, batch, "per-item", min(limit, 100_000), window)["rate"]
    loader = measure(path, batch, "dataloader", limit, window)
    batches = measure(path, batch, "batches", limit, window)["rate"]
    windowed = measure(path, batch, "window", limit, window)
    sampler = measure(path, batch, "sampler", limit, window)
    parallel = measure(path, batch, "sampler-workers", limit, window, args.workers) \
        if args.workers > 0 else None
    print(f"{kind} {millions}M steps: load {best:.3f} s (best of 3), peak RSS above the "
          f"interpreter {peak:.0f} MiB")
    print(f"  DataLoader(batch_size={batch}, shuffle=True): {loader['rate'] / 1e6:.2f} M/s, "
          f"{loader['rate'] / per_item:.1f}x the per-item path ({per_item / 1e6:.3f} M/s); "
          f"batches(): {batches / 1e6:.2f} M/s")
    print(f"  full shuffled DataLoader pass: {loader['full_pass_rate'] / 1e6:.2f} M/s, peak RSS "
          f"{loader['full_pass_peak_mb']:.0f} MiB (mapped pages of a global permutation)")
    print(f"  batches(window={window}) epoch: {windowed['rate'] / 1e6:.2f} M/s, peak RSS "
          f"{windowed['peak_mb']:.0f} MiB")
    print(f"  DataLoader(batch_sampler=batch_sampler({batch}, window={window})) epoch: "
          f"{sampler['rate'] / 1e6:.2f} M/s, peak RSS {sampler['peak_mb']:.0f} MiB")
    if parallel is not None:
        print(f"  the same, num_workers={args.workers}: {parallel['rate'] / 1e6:.2f} M/s, main "
              f"process peak RSS {parallel['peak_mb']:.0f} MiB, largest worker peak "
              f"{parallel['worker_peak_mb']:.0f} MiB above its start")
    print(flush=True)


if __name__ == "__main__":
    main()
