"""benchmarks/rerun_identity.py: what counts as the same cell on a rerun."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "rerun_identity.py"


def write(folder: Path, cell: dict) -> None:
    path = folder / "cells" / "cartpole" / "bc" / "seed0.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cell))


def compare(tmp_path: Path, rerun: dict, reference: dict) -> subprocess.CompletedProcess:
    write(tmp_path / "rerun", rerun)
    write(tmp_path / "ref", reference)
    return subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "rerun"),
                           str(tmp_path / "ref")], capture_output=True, text=True, check=False)


def test_times_and_fields_recorded_since_are_not_differences(tmp_path):
    ref = {"performance": 0.5, "train_seconds": 3.0, "log": {"records": [{"wall_seconds": 1}]}}
    rerun = {**ref, "train_seconds": 9.0, "log": {"records": [{"wall_seconds": 7}]},
             "demo_repeats": 1, "train_cpu_seconds": 2.0}
    out = compare(tmp_path, rerun, ref)
    assert out.returncode == 0, out.stdout
    assert "identical (recorded since: .demo_repeats)" in out.stdout
    assert "1 of 1 cells identical" in out.stdout


def test_a_changed_number_or_a_lost_field_is_a_difference(tmp_path):
    ref = {"performance": 0.5, "aer": 10.0}
    out = compare(tmp_path, {"performance": 0.5000001, "aer": 10.0}, ref)
    assert out.returncode == 1 and "DIFFERS at .performance" in out.stdout
    out = compare(tmp_path, {"performance": 0.5}, ref)
    assert out.returncode == 1 and ".aer (only in the reference)" in out.stdout
