"""Image iteration at scale: a 1M-frame 84x84x3 pixel dataset read by us, HF ``datasets``, LeRobot.

``build`` (once, minutes): collects ``--episodes`` real CartPole pixel episodes
(``collect --pixels``, 84x84, seed 0, one worker) and tiles them into mapped pixel datasets of
``--sizes`` frames (default 100,000 and 1,000,000) with our writer: every frame is PNG-encoded
into ``steps/obs.arrow`` like a collection's, the episodes repeat (a 1M-frame real collection
takes ~22 min of one core rendering; the decode work per frame is the same).

``measure`` (each reader in a fresh interpreter, one torch thread, ``--limit`` frames decoded,
batches of 256, shuffled with seed 0): frames decoded per second and peak RSS above the
interpreter after its imports (``VmHWM`` after ``/proc/self/clear_refs``, so mapped file pages a
reader touched count), and at the end its heap (``RssAnon``) and mapped file pages (``RssFile``:
the kernel's page cache, shared and reclaimable) above the interpreter's:

* ours, windowed: ``BaselineDataset(dir).batches(256, window=W)`` (``s`` and ``s'`` both
  decoded, both counted); the pages of each window are released after it, so the resident
  size is bounded by about one window of PNG bytes plus one decoded batch, whatever the size;
* ours, ``DataLoader(BaselineDataset(dir), batch_size=256, shuffle=True)`` (global shuffle);
* HF ``datasets``: ``DataLoader(Dataset.from_file("steps/obs.arrow").with_format("torch"),
  batch_size=256, shuffle=True)``: the same PNG bytes decoded by ``datasets``' ``Image``
  feature, without this library;
* LeRobot (``--lerobot-python``, a venv with ``lerobot``): the first ``--lerobot-frames`` frames
  written with ``LeRobotDataset.create`` / ``add_frame`` / ``save_episode`` as images (PNG in
  Parquet) and as videos (LeRobot's default), read with ``LeRobotDataset(root=...)`` through
  the same ``DataLoader``.

Usage::

    python benchmarks/pixels_scale.py build [--dir /tmp/il-pixels-scale]
    python benchmarks/pixels_scale.py measure [--dir /tmp/il-pixels-scale] [--limit 60000]
        [--lerobot-python /tmp/venv-lerobot/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PEAK = r"""
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

open("/proc/self/clear_refs", "w").write("5")  # VmHWM := VmRSS, after the imports
BASE = status("VmRSS")
BASE_ANON, BASE_FILE = status("RssAnon"), status("RssFile")


def memory():
    return {"peak_mb": (status("VmHWM") - BASE) / 2**20,
            "anon_mb": (status("RssAnon") - BASE_ANON) / 2**20,
            "file_mb": (status("RssFile") - BASE_FILE) / 2**20}
"""

OURS = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from imitation_datasets.data.torch_dataset import BaselineDataset
""" + PEAK + r"""
path, mode, limit, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
dataset = BaselineDataset(path)
load = time.perf_counter() - start
if mode == "windowed":
    batches = dataset.batches(256, seed=0, window=window)
else:
    batches = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=True,
                                          generator=torch.Generator().manual_seed(0))
start, seen = time.perf_counter(), 0
for states, actions, following in batches:
    seen += 2 * len(states)  # s and s' are both decoded
    if seen >= limit:
        break
rate = seen / (time.perf_counter() - start)
print(json.dumps({"load_s": load, "frames_per_s": rate, **memory(),
                  "frames": seen, "rows": len(dataset)}))
"""

HF = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
import datasets
""" + PEAK + r"""
path, limit = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
table = datasets.Dataset.from_file(path + "/steps/obs.arrow").with_format("torch")
load = time.perf_counter() - start
loader = torch.utils.data.DataLoader(table, batch_size=256, shuffle=True,
                                     generator=torch.Generator().manual_seed(0))
start, seen = time.perf_counter(), 0
for batch in loader:
    assert sorted(batch["image"].shape[1:]) == [3, 84, 84], batch["image"].shape  # CHW
    seen += len(batch["image"])
    if seen >= limit:
        break
rate = seen / (time.perf_counter() - start)
print(json.dumps({"load_s": load, "frames_per_s": rate, **memory(),
                  "frames": seen, "rows": len(table), "version": datasets.__version__}))
"""

LEROBOT_BUILD = r"""
import io, json, sys, time
import numpy as np
import datasets
from PIL import Image
from lerobot.datasets.lerobot_dataset import LeRobotDataset
source, root, frames, videos = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
table = datasets.Dataset.from_file(source + "/steps/obs.arrow").with_format("arrow")
actions = np.load(source + "/steps/action.npy", mmap_mode="r")
import pyarrow.parquet as pq
lengths = pq.read_table(source + "/episodes.parquet", columns=["length"]).column(0).to_numpy()
features = {"observation.image": {"dtype": "video" if videos else "image", "shape": (84, 84, 3),
                                  "names": ["height", "width", "channels"]},
            "action": {"dtype": "int64", "shape": (1,), "names": None}}
start = time.perf_counter()
dataset = LeRobotDataset.create("il-datasets/cartpole-pixels", fps=50, root=root,
                                features=features, use_videos=videos, video_backend="pyav")
row = 0
for length in lengths:
    if row >= frames:
        break
    images = table[row:row + length]["image"]
    for k in range(length):
        frame = np.asarray(Image.open(io.BytesIO(images[k]["bytes"].as_py())).convert("RGB"))
        dataset.add_frame({"observation.image": frame,
                           "action": np.array([actions[row + k]], dtype=np.int64),
                           "task": "balance the pole"})
    dataset.save_episode()
    row += int(length)
if hasattr(dataset, "finalize"):
    dataset.finalize()
print(json.dumps({"frames": row, "build_s": time.perf_counter() - start}))
"""

LEROBOT_READ = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
import lerobot
from lerobot.datasets.lerobot_dataset import LeRobotDataset
""" + PEAK + r"""
root, limit = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
dataset = LeRobotDataset("il-datasets/cartpole-pixels", root=root, video_backend="pyav")
load = time.perf_counter() - start
loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=True,
                                     generator=torch.Generator().manual_seed(0))
start, seen = time.perf_counter(), 0
for batch in loader:
    seen += len(batch["observation.image"])
    if seen >= limit:
        break
rate = seen / (time.perf_counter() - start)
shape = list(batch["observation.image"].shape[1:])
print(json.dumps({"load_s": load, "frames_per_s": rate, **memory(),
                  "frames": seen, "rows": len(dataset), "shape": shape,
                  "version": getattr(lerobot, "__version__", "?")}))
"""


def run_child(python: str, code: str, *args: object, env: dict | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; its last stdout line is JSON."""
    result = subprocess.run([python, "-c", code, *map(str, args)], capture_output=True,
                            text=True, env=env)
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"exit status {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def dataset_path(root: Path, frames: int) -> Path:
    return root / f"cartpole-pixels-{frames}"


def build(root: Path, sizes: list[int], episodes: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from pixels import collect_frames, tiled_dataset

    start = time.perf_counter()
    source = collect_frames(root / "src", "cartpole", episodes)
    print(f"collected {episodes} CartPole pixel episodes in {time.perf_counter() - start:.0f} s",
          flush=True)
    for frames in sizes:
        path = dataset_path(root, frames)
        if (path / "metadata.json").exists():
            continue
        start = time.perf_counter()
        tiled_dataset(source, path, frames)
        size = (path / "steps" / "obs.arrow").stat().st_size
        print(f"built {path}: {frames:,} frames, {size / 2**20:.0f} MiB of PNG, "
              f"{time.perf_counter() - start:.0f} s", flush=True)


def measure(root: Path, sizes: list[int], limit: int, window: int,
            lerobot_python: str | None, lerobot_frames: int) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{limit:,} frames decoded per reader, batches of 256, one torch thread; load average "
          f"{load} on {os.cpu_count()} CPUs")
    print("| dataset | reader | load (s) | frames/s | peak RSS above interpreter (MiB) | at the "
          "end: heap / mapped file pages (MiB) |")
    print("|---|---|---|---|---|---|")
    for frames in sizes:
        path = dataset_path(root, frames)
        size = (path / "steps" / "obs.arrow").stat().st_size / 2**20
        name = f"{frames:,} frames ({size:.0f} MiB PNG)"
        rows = [(f"ours: batches(256, window={window})", sys.executable, OURS,
                 (path, "windowed", limit, window)),
                ("ours: DataLoader(BaselineDataset, 256, shuffle=True)", sys.executable, OURS,
                 (path, "dataloader", limit, window)),
                ("HF datasets: DataLoader(Dataset.from_file(obs.arrow).with_format('torch'))",
                 sys.executable, HF, (path, limit))]
        for label, python, code, args in rows:
            try:
                out = run_child(python, code, *args)
            except RuntimeError as exc:
                print(f"| {name} | {label} | failed: {exc} | | |", flush=True)
                continue
            print(f"| {name} | {label} | {out['load_s']:.3f} | {out['frames_per_s']:,.0f} | "
                  f"{out['peak_mb']:.0f} | {_split(out)} |", flush=True)
    if lerobot_python:
        measure_lerobot(root, sizes[0], limit, lerobot_python, lerobot_frames)


def measure_lerobot(root: Path, source_frames: int, limit: int, python: str,
                    frames: int) -> None:
    source = dataset_path(root, source_frames)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    for videos in (False, True):
        kind = "videos" if videos else "images"
        target = root / f"lerobot-{kind}-{frames}"
        label = f"LeRobot {kind}: DataLoader(LeRobotDataset(root=...), 256, shuffle=True)"
        try:
            if not (target / "meta" / "info.json").exists():
                built = run_child(python, LEROBOT_BUILD, source, target, frames, int(videos),
                                  env=env)
                print(f"  (LeRobot {kind} dataset: {built['frames']:,} frames written in "
                      f"{built['build_s']:.0f} s)", flush=True)
            out = run_child(python, LEROBOT_READ, target, min(limit, frames), env=env)
        except RuntimeError as exc:
            print(f"| {frames:,} frames | {label} | failed: {exc} | | |", flush=True)
            continue
        disk = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 2**20
        print(f"| {out['rows']:,} frames ({disk:.0f} MiB, lerobot {out['version']}) | {label} | "
              f"{out['load_s']:.3f} | {out['frames_per_s']:,.0f} | {out['peak_mb']:.0f} | "
              f"{_split(out)} |", flush=True)


def _split(out: dict) -> str:
    return f"{out['anon_mb']:.0f} / {out['file_mb']:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "measure"])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/il-pixels-scale"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--episodes", type=int, default=20, help="real episodes collected")
    parser.add_argument("--limit", type=int, default=60_000, help="frames decoded per reader")
    parser.add_argument("--window", type=int, default=1 << 14)
    parser.add_argument("--lerobot-python", default=None,
                        help="python of a venv with lerobot (e.g. /tmp/venv-lerobot/bin/python)")
    parser.add_argument("--lerobot-frames", type=int, default=20_000)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.command == "build":
        build(args.dir, args.sizes, args.episodes)
    else:
        measure(args.dir, args.sizes, args.limit, args.window, args.lerobot_python,
                args.lerobot_frames)


if __name__ == "__main__":
    main()
