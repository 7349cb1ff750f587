"""Pixel datasets: frame codecs (size x decode speed), and lazy iteration with bounded memory.

1. Collects a few pixel episodes (``--pixels``, 84x84) of CartPole and, with Box2D, LunarLander,
   and encodes their frames with each codec: PNG at zlib levels 0, 1 (ours), 6 and 9, WebP
   lossless, JPEG quality 95 (lossy: the largest pixel error is shown) and raw uint8 + zstd.
   Prints bytes per frame, encode and decode frames/s (one thread, Pillow).
2. Builds mapped pixel datasets of N and 4N frames (the collected frames tiled, so the codec
   work is real) and, each in a fresh interpreter, iterates one shuffled epoch with
   ``batches(256, window=W)``: frames decoded per second and peak RSS above the interpreter
   (``VmHWM`` after ``/proc/self/clear_refs``), which must not grow with N. Also
   ``DataLoader(dataset, batch_size=256, shuffle=True)`` for a few thousand frames.
3. HuggingFace ``datasets`` reading the same file (``Dataset.from_file(steps/obs.arrow)``, the
   ``Image`` feature decoded by ``datasets``): frames/s for the same random batches.

Usage::

    python benchmarks/pixels.py [--frames 50000] [--window 16384] [--dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
import torch
torch.set_num_threads(1)
from imitation_datasets.data.torch_dataset import BaselineDataset

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS")
dataset = BaselineDataset(sys.argv[1])
start, seen = time.perf_counter(), 0
for states, actions, following in dataset.batches(256, seed=0, window=int(sys.argv[2])):
    seen += 2 * len(states)  # s and s' are both decoded
epoch = time.perf_counter() - start
peak = status("VmHWM") - base  # before the DataLoader's global shuffle maps pages everywhere
loader = torch.utils.data.DataLoader(dataset, batch_size=256, shuffle=True,
                                     generator=torch.Generator().manual_seed(0))
start, loaded = time.perf_counter(), 0
for states, actions, following in loader:
    loaded += 2 * len(states)
    if loaded >= 8192:
        break
print(json.dumps({"frames_per_s": seen / epoch, "peak_mb": peak / 2**20,
                  "dataloader_frames_per_s": loaded / (time.perf_counter() - start)}))
"""


def collect_frames(root: Path, game: str, episodes: int) -> Path:
    from imitation_datasets.collect.options import CollectOptions
    from imitation_datasets.controller import Controller

    options = CollectOptions(episodes=episodes, workers=1, seed=0, pixels=True, size=(84, 84),
                             path=str(root), progress=False)
    return Controller.from_options(options).start({"game": game, "mode": "all"})


def codecs() -> dict[str, tuple]:
    from PIL import Image

    def pil(fmt: str, **kwargs: object):
        def encode(frame: np.ndarray) -> bytes:
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format=fmt, **kwargs)
            return buffer.getvalue()

        def decode(data: bytes) -> np.ndarray:
            with Image.open(io.BytesIO(data)) as image:
                return np.asarray(image)
        return encode, decode

    import pyarrow as pa

    def zstd_encode(frame: np.ndarray) -> bytes:
        return pa.compress(frame.tobytes(), codec="zstd", asbytes=True)

    def zstd_decode(data: bytes) -> np.ndarray:
        raw = pa.decompress(data, decompressed_size=84 * 84 * 3, codec="zstd", asbytes=True)
        return np.frombuffer(raw, np.uint8).reshape(84, 84, 3)

    out = {f"PNG level {level}": pil("PNG", compress_level=level) for level in (0, 1, 6, 9)}
    out["WebP lossless"] = pil("WEBP", lossless=True)
    out["JPEG q95 (lossy)"] = pil("JPEG", quality=95)
    out["raw + zstd"] = (zstd_encode, zstd_decode)
    return out


def codec_table(frames: np.ndarray, name: str) -> None:
    print(f"\n{name}: {len(frames)} frames 84x84x3 ({frames.nbytes / len(frames):.0f} B raw)")
    print("| codec | bytes/frame | ratio | encode frames/s | decode frames/s | max error |")
    print("|---|---|---|---|---|---|")
    for codec, (encode, decode) in codecs().items():
        start = time.perf_counter()
        encoded = [encode(f) for f in frames]
        encode_rate = len(frames) / (time.perf_counter() - start)
        start = time.perf_counter()
        decoded = [decode(b) for b in encoded]
        decode_rate = len(frames) / (time.perf_counter() - start)
        size = sum(map(len, encoded)) / len(frames)
        error = max(int(np.abs(d.astype(int) - f).max()) for d, f in zip(decoded, frames))
        print(f"| {codec} | {size:.0f} | {frames.nbytes / len(frames) / size:.1f}x | "
              f"{encode_rate:,.0f} | {decode_rate:,.0f} | {error} |")


def tiled_dataset(source: Path, directory: Path, frames: int) -> Path:
    """A mapped pixel dataset of ``frames`` steps: the source's episodes repeated."""
    from imitation_datasets.core.episode import Episode
    from imitation_datasets.data.mapped_writer import MappedWriter
    from imitation_datasets.data.torch_dataset import BaselineDataset

    data = BaselineDataset(source)
    arrays = data.arrays
    episodes = []
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths)):
        obs = np.stack([arrays.obs[int(i)] for i in range(start, start + length)])
        episodes.append(Episode(obs, arrays.actions[start:start + length],
                                arrays.rewards[start:start + length], arrays.final_obs[e],
                                bool(arrays.terminated[start + length - 1]),
                                bool(arrays.truncated[start + length - 1]), seed=e))
    chosen, total = [], 0
    while total < frames:
        episode = episodes[len(chosen) % len(episodes)]
        chosen.append(episode)
        total += episode.length
    with MappedWriter(directory, total) as writer:
        for episode in chosen:
            writer.add(episode)
        writer.finish(lambda arrays: _metadata(data.metadata, arrays))
    return directory


def _metadata(meta: dict, arrays: object) -> dict:
    """The source's metadata, rebuilt for the tiled episodes."""
    from imitation_datasets.data.metadata import build_metadata

    return build_metadata(arrays, env=meta["env"], expert=meta["expert"],
                          collection=meta["collection"], acceptance=meta["acceptance"],
                          reference=meta["reference"], creation={"command": "benchmarks/pixels.py"})


def hf_rate(path: Path, batches: int = 20) -> float:
    import datasets

    table = datasets.Dataset.from_file(str(path / "steps" / "obs.arrow")).with_format("numpy")
    rng = np.random.default_rng(0)
    start, seen = time.perf_counter(), 0
    for _ in range(batches):
        index = rng.integers(0, len(table), 256)
        seen += len(table[index]["image"])
    return seen / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=50_000)
    parser.add_argument("--window", type=int, default=1 << 14)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="il-pixels-"))
    try:
        sources = {"CartPole": collect_frames(root / "src", "cartpole", 4)}
        try:
            import Box2D  # noqa: F401

            sources["LunarLander"] = collect_frames(root / "src", "lunarlander", 4)
        except ImportError:
            print("LunarLander skipped: pip install 'imitation-datasets[box2d]'")
        from imitation_datasets.data.torch_dataset import BaselineDataset

        for name, source in sources.items():
            data = BaselineDataset(source)
            frames = np.stack([data.arrays.obs[int(i)]
                               for i in np.linspace(0, len(data) - 1, 500).astype(int)])
            codec_table(frames, name)
        print(f"\niteration (CartPole frames tiled; PNG level 1; window {args.window} rows):")
        for count in (args.frames, 4 * args.frames):
            path = tiled_dataset(sources["CartPole"], root / f"tiled-{count}", count)
            size = (path / "steps" / "obs.arrow").stat().st_size
            out = json.loads(subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(args.window)], check=True,
                capture_output=True, text=True).stdout.strip().splitlines()[-1])
            line = (f"  {count:,} frames ({size / 2**20:.0f} MiB of PNG): epoch "
                    f"{out['frames_per_s']:,.0f} frames/s decoded, peak RSS (load + epoch) "
                    f"{out['peak_mb']:.0f} MiB above the interpreter; DataLoader(batch_size=256, "
                    f"shuffle=True) {out['dataloader_frames_per_s']:,.0f} frames/s")
            with contextlib.suppress(ImportError):
                line += f"; HF datasets Image on the same file {hf_rate(path):,.0f} frames/s"
            print(line, flush=True)
            shutil.rmtree(path)
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
