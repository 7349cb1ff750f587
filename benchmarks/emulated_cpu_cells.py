"""Run benchmark cells on an emulated CPU, to compare them with the same cells run natively.

Usage::

    python benchmarks/emulated_cpu_cells.py --cpu EPYC --out /tmp/emulated -- \\
        --data /tmp/data --workers 1 --budget-scale 0.1 bc,gail,dagger,sqil/cartpole/5/0
    python benchmarks/cell_queue.py --out /tmp/native --data /tmp/data --workers 1 \\
        --budget-scale 0.1 bc,gail,dagger,sqil/cartpole/5/0
    python benchmarks/rerun_identity.py /tmp/emulated /tmp/native

The arguments after ``--`` are ``benchmarks/cell_queue.py``'s (its ``--out`` is this script's).
Planning and the datasets run natively; every cell runs in a worker started under
``qemu-x86_64 -cpu CPU`` (Debian's ``qemu-user``): another vendor's or generation's CPUID, so
MKL takes that CPU's code paths, and qemu's results for approximate instructions (reciprocal,
reciprocal square root) are not the host's. Cells that train with arithmetic whose bits depend
on the CPU come out different (``benchmark/reproducible.py``); the cells' arithmetic must not.
About 30-60 x slower than native: keep the budget small (``--budget-scale``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import runpy
import shutil
import stat
import sys
import tempfile
from pathlib import Path

QUEUE = Path(__file__).resolve().parent / "cell_queue.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", default="EPYC", help="qemu CPU model (qemu-x86_64 -cpu help)")
    parser.add_argument("--out", required=True, help="results folder of the emulated cells")
    parser.add_argument("queue", nargs=argparse.REMAINDER, help="-- cell_queue.py's arguments")
    args = parser.parse_args()
    qemu = shutil.which("qemu-x86_64")
    if qemu is None:
        parser.error("qemu-x86_64 not found (Debian: apt-get install qemu-user)")
    queue = args.queue[1:] if args.queue[:1] == ["--"] else args.queue
    with tempfile.TemporaryDirectory() as tmp:
        python = Path(tmp) / "python"  # what spawned workers execute: this Python, emulated
        python.write_text(f'#!/bin/sh\nexec {qemu} -cpu {args.cpu} {sys.executable} "$@"\n')
        python.chmod(python.stat().st_mode | stat.S_IXUSR)
        multiprocessing.set_executable(os.fspath(python))
        sys.argv = [str(QUEUE), "--out", args.out, *queue]
        runpy.run_path(str(QUEUE), run_name="__main__")


if __name__ == "__main__":
    main()
