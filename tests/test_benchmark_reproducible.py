"""Benchmark cells train with CPU-independent arithmetic (benchmark/reproducible.py)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from imitation_datasets.benchmark.reproducible import (
    ARITHMETIC,
    CELL_ENVIRONMENT,
    ReproducibilityError,
    arithmetic_line,
    cell_environment,
    check_cell_process,
)

SCRIPT = Path(__file__).parent / "scripts" / "train_digest.py"
GOLDEN_DIGEST = "e67cb5be3a14dcaba25b06fa90514357ebae88d7bc2cbcb96750f55fa35518f7"
"""Weights after ``train_digest.py`` under the cells' environment, torch 2.13.0 (CPU wheel): the
same on an Intel Xeon with AVX-512 and under ``qemu-x86_64 -cpu EPYC`` and ``-cpu Nehalem``
(2026-12-01). With ``torch.optim.Adam`` (arithmetic 1) an AMD EPYC gave 45cc6cb9..., that Intel
Xeon 0d1109f2... and qemu 4e7470c5...: torch's square root differs by CPU."""
QEMU = shutil.which("qemu-x86_64")
INSTRUCTION_SETS = [
    {},
    {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
]


def _digest(extra: dict[str, str], emulate: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MKL_", "ONEDNN_", "ATEN_"))}
    env.update(CELL_ENVIRONMENT)
    env.update(extra)
    command = [sys.executable, str(SCRIPT)]
    if emulate:  # another CPU model: other MKL code paths, other approximate instructions
        command = [str(QEMU), "-cpu", emulate, *command]
    out = subprocess.run(command, env=env, capture_output=True, text=True,
                         timeout=600, check=True).stdout.split()
    assert out[0] == "DEFAULT"  # ATen's non-vectorised kernels are in use
    return out[1]


def test_training_gives_the_same_weights_whatever_instructions_the_cpu_offers():
    digests = {_digest(extra) for extra in INSTRUCTION_SETS}
    assert len(digests) == 1
    if torch.__version__.split("+")[0] == "2.13.0":
        assert digests == {GOLDEN_DIGEST}


@pytest.mark.skipif(QEMU is None or platform.machine() != "x86_64",
                    reason="qemu-x86_64 (Debian's qemu-user) not installed")
def test_training_gives_the_same_weights_on_an_emulated_amd_cpu():
    """An AMD EPYC, emulated (about a minute): MKL takes its non-Intel code paths there, and
    qemu's approximate reciprocal (square root) instructions round otherwise than the host's."""
    assert _digest({}, emulate="EPYC") == _digest({})


def test_a_process_started_without_the_cells_environment_may_not_train_a_cell(monkeypatch):
    for name in CELL_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ReproducibilityError) as info:
        check_cell_process()
    assert "MKL_CBWR" in str(info.value) and "\n" not in str(info.value)


def test_the_environment_is_set_only_while_workers_start(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.delenv("MKL_CBWR", raising=False)
    with cell_environment():
        assert os.environ["MKL_CBWR"] == "COMPATIBLE" and os.environ["OMP_NUM_THREADS"] == "1"
    assert "MKL_CBWR" not in os.environ and os.environ["OMP_NUM_THREADS"] == "4"


def test_a_report_says_which_arithmetic_its_cells_were_trained_with():
    old, new = {"env": "cartpole"}, {"env": "cartpole", "arithmetic": ARITHMETIC}
    line = arithmetic_line([old, old, new])
    assert "2 cell(s) with arithmetic 1 (torch's Adam" in line
    assert f"1 cell(s) with arithmetic {ARITHMETIC}" in line
    assert "adds no cell to this folder" in line and "\n" not in line
    assert "adds no cell" not in arithmetic_line([new])
