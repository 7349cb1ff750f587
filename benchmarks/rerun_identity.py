"""Check that a rerun of benchmark cells gives identical numbers.

Usage: ``python benchmarks/rerun_identity.py RERUN_DIR [REFERENCE_DIR]`` (default reference:
``results``). Rerun some cells first, e.g.::

    il-datasets benchmark --methods gail,sqil --envs cartpole --seeds 1 --out /tmp/rerun \\
        --data benchmark_data --workers 1 --quiet

Every cell of ``RERUN_DIR`` is compared field by field with the same cell of the reference:
every number, list and string must be equal, except times (``train_seconds``,
``test_seconds``, their ``_cpu_`` twins and the log's ``wall_seconds``). A field only the rerun
has was recorded after the reference cell was made (``demos``, ``env_steps``, a config option
added later with a default that keeps the old behaviour): it is listed, and is not a
difference; a field only the reference has is one. Prints one line per cell and a count;
exit status 1 if a cell differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

TIMES = {"train_seconds", "test_seconds", "train_cpu_seconds", "test_cpu_seconds",
         "wall_seconds"}


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Paths at which ``a`` and ``b`` differ, ignoring wall-clock fields."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key in TIMES:
                continue
            if key not in b:
                found.append(f"{where}.{key} (only in the rerun)")
            elif key not in a:
                found.append(f"{where}.{key} (only in the reference)")
            else:
                found += differences(a[key], b[key], f"{where}.{key}")
        return found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where} (length {len(a)} vs {len(b)})"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where} ({a!r} vs {b!r})"]


def main() -> None:
    rerun = Path(sys.argv[1])
    reference = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("results")
    failed = compared = 0
    for path in sorted((rerun / "cells").rglob("seed*.json")):
        other = reference / path.relative_to(rerun)
        if not other.exists():
            print(f"{path.relative_to(rerun)}: not in {reference}")
            continue
        compared += 1
        found = differences(json.loads(path.read_text()), json.loads(other.read_text()))
        newer = [f.split(" (")[0] for f in found if f.endswith("(only in the rerun)")]
        found = [f for f in found if not f.endswith("(only in the rerun)")]
        failed += bool(found)
        print(f"{path.relative_to(rerun)}: " + (
            f"DIFFERS at {found[0]} ({len(found)} fields)" if found else "identical"
            + (f" (recorded since: {', '.join(newer)})" if newer else "")))
    print(f"{compared - failed} of {compared} cells identical")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
