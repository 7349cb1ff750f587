"""A script written for IL-Datasets 1.0.0 runs unchanged (tests/scripts/original_user_script.py)."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "original_user_script.py"


def test_a_1_0_0_user_script_runs_unchanged(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--game", "cartpole", "--episodes", "6", "--threads", "2",
         "--mode", "all"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("OK")
    assert (tmp_path / "dataset" / "cartpole" / "teacher.npz").exists()
    assert (tmp_path / "tmp" / "bc" / "CartPole" / "best_model").is_dir()
