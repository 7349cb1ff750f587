"""Benchmark cells train with CPU-independent arithmetic (benchmark/reproducible.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from imitation_datasets.benchmark.reproducible import (
    CELL_ENVIRONMENT,
    ReproducibilityError,
    cell_environment,
    check_cell_process,
)

SCRIPT = Path(__file__).parent / "scripts" / "train_digest.py"
GOLDEN_DIGEST = "45cc6cb9ec2099a6caa64063748dad19f58cea19136c5b18b0b010caa2a5dfa1"
"""Weights after ``train_digest.py`` under the cells' environment, torch 2.13.0 (CPU wheel)."""
INSTRUCTION_SETS = [
    {},
    {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"},
]


def _digest(extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MKL_", "ONEDNN_", "ATEN_"))}
    env.update(CELL_ENVIRONMENT)
    env.update(extra)
    out = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert out[0] == "DEFAULT"  # ATen's non-vectorised kernels are in use
    return out[1]


def test_training_gives_the_same_weights_whatever_instructions_the_cpu_offers():
    digests = {_digest(extra) for extra in INSTRUCTION_SETS}
    assert len(digests) == 1
    if torch.__version__.split("+")[0] == "2.13.0":
        assert digests == {GOLDEN_DIGEST}


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
