"""Where a ``DataLoader(BaselineDataset, batch_size=B, shuffle=True)`` batch spends its time.

On a synthetic HalfCheetah-shaped dataset (1000 x 1000 steps, ``benchmarks/loading.py``'s
builder), one torch thread, best of ``--repeat`` runs of ``--batches`` calls each, microseconds
per batch of B:

* torch's ``BatchSampler(RandomSampler)``: the B indices, yielded one by one;
* ``dataset.__getitems__(indices)``: our gather (index conversion, bounds, episode lookup,
  ``s``, ``a``, ``s'``), on a new batch of indices each call (random rows: memory misses) and
  on the same indices again (in cache: the Python and NumPy overhead alone);
* ``default_collate`` of the gathered batch;
* the whole ``DataLoader`` per batch (after its first batch, which draws the epoch's
  permutation), and the same loader over a dataset whose fetch costs nothing (returns a ready
  batch): torch's own floor.

Usage::

    python benchmarks/loading_profile.py [--batch-sizes 256 1024] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def per_call(function: Callable[[], object], calls: int, repeat: int) -> float:
    """Best of ``repeat`` runs: microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def loader_per_batch(dataset: object, size: int, batches: int, repeat: int) -> float:
    import torch

    best = float("inf")
    for _ in range(repeat):
        loader = torch.utils.data.DataLoader(dataset, batch_size=size, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        iterator = iter(loader)
        next(iterator)  # the epoch's permutation is drawn here: not a per-batch cost
        start = time.perf_counter()
        for _ in range(batches):
            next(iterator)
        best = min(best, (time.perf_counter() - start) / batches)
    return best * 1e6


def profile(dataset: object, size: int, batches: int, repeat: int) -> list[float]:
    """Microseconds per batch: sampler, gather (new, cached), collate, DataLoader, free fetch."""
    import torch
    from torch.utils.data import BatchSampler, Dataset, RandomSampler, default_collate

    from imitation_datasets.data.batches import GatheredBatch

    sampler = BatchSampler(RandomSampler(dataset, generator=torch.Generator().manual_seed(0)),
                           size, False)
    iterator = iter(sampler)

    def draw() -> list[int]:
        nonlocal iterator
        try:
            return next(iterator)
        except StopIteration:
            iterator = iter(sampler)
            return next(iterator)

    indices = draw()
    gathered = dataset.__getitems__(indices)
    ready = GatheredBatch(gathered.parts)

    class Free(Dataset):
        def __len__(self) -> int:
            return len(dataset)

        def __getitems__(self, index: list[int]) -> GatheredBatch:
            return ready

    sampling = per_call(draw, batches, repeat)
    return [sampling,
            per_call(lambda: dataset.__getitems__(draw()), batches, repeat) - sampling,
            per_call(lambda: dataset.__getitems__(indices), batches, repeat),
            per_call(lambda: default_collate(gathered), batches, repeat),
            loader_per_batch(dataset, size, batches, repeat),
            loader_per_batch(Free(), size, batches, repeat)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batches", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).parent))
    from loading import build_halfcheetah_like

    from imitation_datasets.dataset import BaselineDataset

    root = args.dir or Path(tempfile.mkdtemp(prefix="il-profile-"))
    path = root / "halfcheetah-like-1000x1000"
    if not (path / "metadata.json").exists():
        build_halfcheetah_like(path, 1000, 1000)
    dataset = BaselineDataset(path)
    print(f"1M transitions, one torch thread, best of {args.repeat}; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print("| batch | sampler | __getitems__ (gather), new indices | same indices again (in "
          "cache) | default_collate | DataLoader per batch | DataLoader, free fetch | DataLoader M "
          "transitions/s |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.batch_sizes:
        times = profile(dataset, size, args.batches, args.repeat)
        print(f"| {size} | " + " | ".join(f"{t:.1f} µs" for t in times)
              + f" | {size / times[4]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
