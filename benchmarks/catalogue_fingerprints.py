"""Regenerate canonical catalogue datasets and print their content fingerprints.

Usage: ``python benchmarks/catalogue_fingerprints.py [KEY ...] [--workers W] [--splits S,..]``
(default: the classic-control experts, splits ``train`` and ``random``; ``--splits medium``
measures the splits of the lower-proficiency ``<key>-medium`` experts). For each key, the splits
are collected from scratch into a temporary folder exactly as ``il-datasets get`` regenerates
them, and the script prints, per split, the content fingerprint, steps, size on disk, seconds,
and whether it equals the committed fingerprint (``src/imitation_datasets/catalogue/entries.py``,
where new values are pasted as ``_entry(key, env_id, (fingerprint, steps, MiB), (...))``, a
medium split as ``medium=(...)``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from imitation_datasets.catalogue.entries import ALL_SPLITS, CATALOGUE, SPLITS
from imitation_datasets.catalogue.get import regenerate
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.sources import load_source

CLASSIC = ("acrobot", "cartpole", "mountaincar", "mountaincarcontinuous", "pendulum")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("keys", nargs="*", default=list(CLASSIC))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--splits", default=",".join(SPLITS),
                        help=f"comma-separated, among {', '.join(ALL_SPLITS)}")
    args = parser.parse_args()
    splits = [s for s in args.splits.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.keys:
            measured = {}
            for split in splits:
                start = time.perf_counter()
                out = regenerate(key, split, Path(tmp) / f"{key}-{split}", args.workers)
                seconds = time.perf_counter() - start
                arrays = load_source(out).arrays
                fingerprint = content_fingerprint(arrays)
                size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
                entry = CATALOGUE[key]
                committed = entry.split(split).fingerprint if split in entry.splits() else None
                verdict = ("matches" if committed == fingerprint else
                           "NEW" if committed is None else "DIFFERS from committed")
                print(f"{key:24s} {split:6s} {fingerprint} steps {arrays.n_steps:8d} "
                      f"{size / 2**20:7.1f} MiB {seconds:6.1f} s  {verdict}", flush=True)
                measured[split] = f'("{fingerprint}", {arrays.n_steps}, {size / 2**20:.1f})'
            values = [value if name in SPLITS else f"{name}={value}"
                      for name, value in measured.items()]
            indent = ",\n           "
            print(f'    _entry("{key}", "{CATALOGUE[key].env_id}"{indent}'
                  f'{indent.join(values)}),', flush=True)


if __name__ == "__main__":
    main()
