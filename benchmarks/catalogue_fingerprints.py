"""Regenerate canonical catalogue datasets and print their content fingerprints.

Usage: ``python benchmarks/catalogue_fingerprints.py [KEY ...] [--workers W]`` (default: the
classic-control experts). For each key, both splits (``train``: the curated expert, ``random``)
are collected from scratch into a temporary folder exactly as ``il-datasets get`` regenerates
them, and the script prints, per split, the content fingerprint, steps, size on disk, seconds,
and whether it equals the committed fingerprint (``src/imitation_datasets/catalogue/entries.py``,
where new values are pasted as ``_entry(key, env_id, (fingerprint, steps, MiB), (...))``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from imitation_datasets.catalogue.entries import CATALOGUE, SPLITS
from imitation_datasets.catalogue.get import regenerate
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.sources import load_source

CLASSIC = ("acrobot", "cartpole", "mountaincar", "mountaincarcontinuous", "pendulum")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", default=list(CLASSIC))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.keys:
            measured = {}
            for split in SPLITS:
                start = time.perf_counter()
                out = regenerate(key, split, Path(tmp) / f"{key}-{split}", args.workers)
                seconds = time.perf_counter() - start
                arrays = load_source(out).arrays
                fingerprint = content_fingerprint(arrays)
                size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
                committed = CATALOGUE[key].split(split).fingerprint
                verdict = ("matches" if committed == fingerprint else
                           "NEW" if committed is None else "DIFFERS from committed")
                print(f"{key:24s} {split:6s} {fingerprint} steps {arrays.n_steps:8d} "
                      f"{size / 2**20:7.1f} MiB {seconds:6.1f} s  {verdict}", flush=True)
                measured[split] = f'("{fingerprint}", {arrays.n_steps}, {size / 2**20:.1f})'
            print(f'    _entry("{key}", "{CATALOGUE[key].env_id}",\n'
                  f'           {measured["train"]},\n           {measured["random"]}),',
                  flush=True)


if __name__ == "__main__":
    main()
