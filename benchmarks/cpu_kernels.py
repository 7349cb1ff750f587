"""Does training depend on the CPU's kernels? Prints training digests under several settings.

Runs ``tests/scripts/train_digest.py`` (a small MLP trained with Adam, as benchmark cells train)
in fresh processes: with torch's default environment, once per ATen CPU capability, and with the
benchmark cells' environment (``benchmark/reproducible.py``) under several MKL/oneDNN
instruction limits. Same digest = same weights, bit for bit.

    python benchmarks/cpu_kernels.py
"""

import os
import subprocess
import sys
from pathlib import Path

from imitation_datasets.benchmark.reproducible import CELL_ENVIRONMENT

SCRIPT = Path(__file__).resolve().parents[1] / "tests" / "scripts" / "train_digest.py"


def digest(extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKL_", "ONEDNN_", "ATEN_"))}
    env.update(extra)
    out = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return f"{out[0]:8s} {out[1][:16]}"


print("torch's default environment (ATen kernels by CPU capability):")
for capability in ("avx512", "avx2", "default"):
    print(f"  ATEN_CPU_CAPABILITY={capability:8s} -> {digest({'ATEN_CPU_CAPABILITY': capability})}")
print("benchmark cells' environment (MKL_CBWR=COMPATIBLE, ATEN_CPU_CAPABILITY=default):")
for isa in ("", "AVX2", "SSE4_2"):
    extra = dict(CELL_ENVIRONMENT)
    if isa:
        extra["MKL_ENABLE_INSTRUCTIONS"] = isa
    print(f"  MKL instructions {isa or 'as the CPU':10s} -> {digest(extra)}")
