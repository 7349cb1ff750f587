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
from golden import (
    GOLDEN_FINGERPRINTS,
    collect_golden,
    curated_keys,
    fingerprint,
    numpy_simd_off,
)

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
    """A machine with SSE-era OpenBLAS kernels and no SIMD paths in NumPy collects the same data."""
    simd_off = numpy_simd_off()
    assert simd_off, "this NumPy dispatches no SIMD paths to turn off"
    env = dict(os.environ, OPENBLAS_CORETYPE="Prescott", OPENBLAS_NUM_THREADS="1",
               NPY_DISABLE_CPU_FEATURES=simd_off)
    # NumPy really runs without them there (an unknown name would be ignored silently)
    script = ("import sys, numpy; core = getattr(numpy, '_core', None) or numpy.core; "
              "on = core._multiarray_umath.__cpu_features__; "
              "print([name for name in sys.argv[1:] if on.get(name)])")
    assert subprocess.run([sys.executable, "-c", script, *simd_off.split()], env=env,
                          capture_output=True, text=True, check=True).stdout.strip() == "[]"
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("golden.py"))],
                         env=env, capture_output=True, text=True, timeout=600, check=True)
    got = dict(line.split('"')[1::2] for line in out.stdout.splitlines() if line.strip())
    assert got == GOLDEN_FINGERPRINTS, out.stderr[-2000:]
