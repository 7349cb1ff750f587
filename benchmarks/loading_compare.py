"""The same state dataset read by us, by HuggingFace ``datasets`` and by Minari.

Builds one synthetic HalfCheetah-shaped dataset (``--steps`` transitions in episodes of 1000,
obs 17 float64, action 6 float32) as our mapped folder, exports it with our writers to a
``datasets`` ``save_to_disk`` folder (Arrow, memory-mapped by ``load_from_disk``) and to a
Minari dataset (its default storage), then, each in a fresh interpreter with one torch thread:

* load time and peak RSS above the interpreter (``VmHWM`` after ``/proc/self/clear_refs``);
* shuffled batches of 1024 through ``torch.utils.data.DataLoader``: ours
  ``DataLoader(BaselineDataset(dir), batch_size=1024, shuffle=True)``; HF
  ``DataLoader(dataset.with_format("torch"), batch_size=1024, shuffle=True)`` (HF's own
  ``__getitems__``); transitions/s over ``--limit`` transitions;
* Minari: ``dataset.sample_episodes(n)`` is its sampling API (whole episodes, no shuffled
  transitions): transitions/s of reading every episode with ``iterate_episodes()``.

Usage::

    python benchmarks/loading_compare.py [--steps 1000000 10000000 20000000] [--limit 500000]
        [--dir DIR]   (an existing --dir keeps the datasets built there)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, os, sys, time
import torch
torch.set_num_threads(1)
kind, path, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

if kind == "hf":
    import datasets
elif kind == "minari":
    import minari
else:
    from imitation_datasets.data.torch_dataset import BaselineDataset
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS")
start = time.perf_counter()
if kind == "hf":
    data = datasets.load_from_disk(path).with_format("torch")
elif kind == "minari":
    data = minari.load_dataset(path)
else:
    data = BaselineDataset(path)
load = time.perf_counter() - start
start, seen = time.perf_counter(), 0
if kind == "minari":
    for episode in data.iterate_episodes():
        seen += len(episode.actions)
else:
    loader = torch.utils.data.DataLoader(data, batch_size=1024, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    for batch in loader:
        seen += len(batch["obs"] if isinstance(batch, dict) else batch[0])
        if seen >= limit:
            break
rate = seen / (time.perf_counter() - start)
print(json.dumps({"load_s": load, "rate": rate, "peak_mb": (status("VmHWM") - base) / 2**20}))
"""


def measure(kind: str, path: str, limit: int, env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, kind, path, str(limit)], check=True,
                            capture_output=True, text=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from loading_scale import build_mapped

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1_000_000],
                        help="dataset sizes (transitions), e.g. 1000000 10000000 20000000")
    parser.add_argument("--limit", type=int, default=500_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="il-compare-"))
    env = dict(os.environ, MINARI_DATASETS_PATH=str(root / "minari"), HF_HUB_OFFLINE="1")
    os.environ.update(env)
    print(f"obs 17 float64, action 6 float32; one torch thread; {args.limit:,} transitions read "
          f"per reader; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} CPUs")
    print("| transitions | reader | load (s) | peak RSS (MiB) | transitions/s |")
    print("|---|---|---|---|---|")
    try:
        for steps in args.steps:
            compare(root / f"{steps}", steps, args.limit, env, build_mapped)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


def compare(root: Path, steps: int, limit: int, env: dict[str, str], build_mapped) -> None:
    """Build ``steps`` transitions three ways (kept when already there), then read each."""
    from imitation_datasets.data.huggingface import to_hf_dataset
    from imitation_datasets.data.minari_export import to_minari

    ours, hf = root / "ours", root / "hf"
    minari_id = f"il-datasets/halfcheetah/synthetic-{steps // 1000}k-v0"
    if not (ours / "metadata.json").exists():
        build_mapped(ours, steps // 1_000_000 or 1)
    if not (hf / "dataset_info.json").exists():
        to_hf_dataset(ours).save_to_disk(str(hf))
    if not (Path(env["MINARI_DATASETS_PATH"]) / minari_id.replace("/", os.sep)).exists():
        to_minari(ours, minari_id)
    for label, kind, path in (
            ("ours: DataLoader(BaselineDataset, 1024, shuffle)", "ours", str(ours)),
            ("HF datasets: DataLoader(with_format('torch'), 1024, shuffle)", "hf", str(hf)),
            ("Minari: iterate_episodes()", "minari", minari_id)):
        try:
            out = measure(kind, path, limit, env)
        except subprocess.CalledProcessError as exc:
            print(f"| {steps:,} | {label} | failed: {exc.stderr.strip().splitlines()[-1]} | | |")
            continue
        print(f"| {steps:,} | {label} | {out['load_s']:.3f} | {out['peak_mb']:.0f} | "
              f"{out['rate']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
