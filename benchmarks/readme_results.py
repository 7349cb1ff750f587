"""Regenerate the README's results blocks from the committed results JSON.

Usage: ``python benchmarks/readme_results.py [--check] [README]`` (default ``README.md`` at the
repository root). Blocks are described in :mod:`imitation_datasets.benchmark.readme_blocks`.
``--check`` changes nothing and exits 1 when a block is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imitation_datasets.benchmark.readme_blocks import render_blocks

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale blocks")
    parser.add_argument("readme", nargs="?", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    text = args.readme.read_text(encoding="utf-8")
    fresh = render_blocks(text, args.readme.parent)
    if fresh == text:
        print(f"{args.readme}: results blocks up to date")
        return 0
    if args.check:
        print(f"{args.readme}: results blocks are stale; run python benchmarks/readme_results.py")
        return 1
    args.readme.write_text(fresh, encoding="utf-8")
    print(f"{args.readme}: results blocks regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
