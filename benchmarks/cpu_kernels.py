"""Does training depend on the CPU's kernels, and what do CPU-independent kernels cost?

Runs ``tests/scripts/train_digest.py`` (a small MLP trained with Adam, as benchmark cells train)
in fresh processes: with torch's default environment, once per ATen CPU capability, and with the
benchmark cells' environment (``benchmark/reproducible.py``) under several MKL/oneDNN
instruction limits. Same digest = same weights, bit for bit.

Then the cost: CPU milliseconds per training step of the classic grid's 64-wide networks and the
continuous grid's 256-wide ones (minibatch 256), under torch's default environment, the cells'
environment, and an AVX2 floor (``MKL_CBWR=AVX2``, ``ATEN_CPU_CAPABILITY=avx2``: MKL's and ATen's
AVX2 code paths on any CPU that has AVX2), with the AVX2 floor's digests under MKL instruction
limits (same digest on this CPU whatever it offers above AVX2). Best of ``--repeat`` runs.

    python benchmarks/cpu_kernels.py [--repeat 3]
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from imitation_datasets.benchmark.reproducible import CELL_ENVIRONMENT

SCRIPT = Path(__file__).resolve().parents[1] / "tests" / "scripts" / "train_digest.py"


AVX2_FLOOR = {**CELL_ENVIRONMENT, "MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
"""A candidate cells' environment: AVX2 kernels on every CPU that has AVX2 (not the protocol's)."""


def train(extra: dict[str, str], *args: str) -> list[str]:
    """``train_digest.py``'s output (capability, digest, ms per step) in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKL_", "ONEDNN_", "ATEN_"))}
    env.update(extra)
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True,
                          text=True, check=True).stdout.split()


def digest(extra: dict[str, str]) -> str:
    out = train(extra)
    return f"{out[0]:8s} {out[1][:16]}"


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is printed)")
repeat = parser.parse_args().repeat


print("torch's default environment (ATen kernels by CPU capability):")
for capability in ("avx512", "avx2", "default"):
    print(f"  ATEN_CPU_CAPABILITY={capability:8s} -> {digest({'ATEN_CPU_CAPABILITY': capability})}")
print("benchmark cells' environment (MKL_CBWR=COMPATIBLE, ATEN_CPU_CAPABILITY=default):")
for isa in ("", "AVX2", "SSE4_2"):
    extra = dict(CELL_ENVIRONMENT)
    if isa:
        extra["MKL_ENABLE_INSTRUCTIONS"] = isa
    print(f"  MKL instructions {isa or 'as the CPU':10s} -> {digest(extra)}")
print("AVX2 floor (MKL_CBWR=AVX2, ATEN_CPU_CAPABILITY=avx2):")
for isa in ("", "AVX2"):
    extra = dict(AVX2_FLOOR)
    if isa:
        extra["MKL_ENABLE_INSTRUCTIONS"] = isa
    print(f"  MKL instructions {isa or 'as the CPU':10s} -> {digest(extra)}")
print(f"CPU ms per Adam step, minibatch 256 (best of {repeat}):")
settings = {"torch's default": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
            "cells' environment": CELL_ENVIRONMENT, "AVX2 floor": AVX2_FLOOR}
for width in ("64", "256"):
    costs = {name: min(float(train(extra, width, "256")[2]) for _ in range(repeat))
             for name, extra in settings.items()}
    base = costs["cells' environment"]
    print(f"  width {width:>3}: " + ", ".join(f"{name} {ms:.2f} ms ({base / ms:.2f}x)"
                                             for name, ms in costs.items()))
