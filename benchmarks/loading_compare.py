"""The same state dataset read by us, by HuggingFace ``datasets`` and by Minari.

Builds one synthetic HalfCheetah-shaped dataset (``--steps`` transitions in episodes of 1000,
obs 17 float64, action 6 float32) as our mapped folder, exports it with our writers to a
``datasets`` ``save_to_disk`` folder (Arrow, memory-mapped by ``load_from_disk``) and to a
Minari dataset (its default storage), each export in a fresh interpreter that reports its wall
time, peak RSS (``VmHWM``: counts the file pages it maps, which the kernel can drop) and peak
anonymous memory (``RssAnon`` sampled every 50 ms: what cannot be dropped, the figure that
decides an out-of-memory kill). Then, each in a fresh interpreter with one torch thread:

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


EXPORT_CHILD = r"""
import json, sys, threading, time
kind, source, target = sys.argv[1], sys.argv[2], sys.argv[3]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

if kind == "hf":
    from imitation_datasets.data.hf_datasets import HFDatasets
else:
    from imitation_datasets.data.minari_export import to_minari
from imitation_datasets.data.sources import as_loaded
open("/proc/self/clear_refs", "w").write("5")
base, anon, peak_anon, done = status("VmRSS"), status("RssAnon"), [0], threading.Event()

def sample():
    while not done.wait(0.05):
        peak_anon[0] = max(peak_anon[0], status("RssAnon"))

threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
if kind == "hf":
    HFDatasets().write(as_loaded(source), target)
else:
    to_minari(source, target)
seconds = time.perf_counter() - start
done.set()
print(json.dumps({"s": seconds, "peak_mb": (status("VmHWM") - base) / 2**20,
                  "anon_mb": (max(peak_anon[0], status("RssAnon")) - anon) / 2**20}))
"""


def export(kind: str, source: str, target: str, env: dict[str, str]) -> str:
    """Run one export in a fresh interpreter; its time and memory as a line (or why it failed)."""
    result = subprocess.run([sys.executable, "-c", EXPORT_CHILD, kind, source, target],
                            capture_output=True, text=True, env=env)
    if result.returncode:
        why = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
        return f"failed ({why}; exit status {result.returncode})"
    out = json.loads(result.stdout.strip().splitlines()[-1])
    return (f"{out['s']:.0f} s, peak RSS {out['peak_mb']:,.0f} MiB, peak anonymous "
            f"{out['anon_mb']:,.0f} MiB")


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
    ours, hf = root / "ours", root / "hf"
    minari_id = f"il-datasets/halfcheetah/synthetic-{steps // 1000}k-v0"
    if not (ours / "metadata.json").exists():
        build_mapped(ours, steps // 1_000_000 or 1)
    if not (hf / "dataset_info.json").exists():
        print(f"export of {steps:,} steps to HF save_to_disk: "
              f"{export('hf', str(ours), str(hf), env)}", flush=True)
    if not (Path(env["MINARI_DATASETS_PATH"]) / minari_id.replace("/", os.sep)).exists():
        print(f"export of {steps:,} steps to Minari (hdf5): "
              f"{export('minari', str(ours), minari_id, env)}", flush=True)
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
