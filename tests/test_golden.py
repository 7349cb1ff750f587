"""Golden fingerprints: every shipped expert gives the committed data on this machine.

A machine (CPU, BLAS kernel, NumPy SIMD level, thread count) that produced other bytes fails here,
naming the expert; docs/format.md says what the guarantee covers.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from golden import GOLDEN_FINGERPRINTS, collect_golden, curated_keys, fingerprint

DATA_FILES = ("steps.parquet", "episodes.parquet", "teacher.npz", "metadata.json")
PARALLELISM = [(1, 1), (1, 7), (2, 1), (2, 7)]  # (workers, envs per worker)


def test_every_shipped_expert_has_a_golden_fingerprint():
    assert sorted(GOLDEN_FINGERPRINTS) == curated_keys()


@pytest.mark.parametrize("key", sorted(GOLDEN_FINGERPRINTS))
def test_collection_reproduces_the_golden_fingerprint_with_any_parallelism(key, tmp_path):
    files = {}
    for workers, envs in PARALLELISM:
        directory = collect_golden(key, tmp_path / f"{workers}x{envs}", workers, envs)
        got = fingerprint(directory)
        assert got == GOLDEN_FINGERPRINTS[key], (
            f"expert {key!r} ({workers} workers x {envs} envs) collected data {got[:16]}..., "
            f"not the golden {GOLDEN_FINGERPRINTS[key][:16]}...: this machine or these library "
            "versions do not reproduce the shipped datasets (see docs/format.md)")
        files[(workers, envs)] = {name: hashlib.sha256((directory / name).read_bytes()).hexdigest()
                                  for name in DATA_FILES}
    assert all(digest == files[(1, 1)] for digest in files.values()), files


def test_golden_data_with_other_blas_kernels_and_simd_levels():
    """A machine with SSE-era OpenBLAS kernels and no AVX in NumPy collects the same data."""
    # the experts the issue saw differ, and Reacher, whose Gymnasium reward is a BLAS norm
    keys = ["mountaincarcontinuous", "walker", "cartpole", "reacher"]
    env = dict(os.environ, OPENBLAS_CORETYPE="Prescott", OPENBLAS_NUM_THREADS="1",
               NPY_DISABLE_CPU_FEATURES="AVX512F AVX512_SKX AVX512_ICL AVX2 FMA3")
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("golden.py")), *keys],
                         env=env, capture_output=True, text=True, timeout=300, check=True)
    got = dict(line.split('"')[1::2] for line in out.stdout.splitlines() if line.strip())
    assert got == {key: GOLDEN_FINGERPRINTS[key] for key in keys}, out.stderr[-2000:]
