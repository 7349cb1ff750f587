"""benchmarks/grid_plan.py: the plan's cost, measured cells apart from projected ones."""

import json
import re
import subprocess
import sys
from pathlib import Path

from imitation_datasets.benchmark.plan import planned_cells
from imitation_datasets.benchmark.protocol import env_protocol
from imitation_datasets.methods.registry import load_config

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "grid_plan.py"


def budget(method: str, env: str) -> int:
    return load_config(method, env_protocol(env).env_id).total_steps  # type: ignore[attr-defined]


def write_cell(folder: Path, env: str, method: str, seed: int, seconds: float) -> None:
    path = folder / "cells" / env / method / f"seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"env": env, "method": method, "seed": seed, "demos": 10,
                                "aer": 100.0, "performance": 0.5, "log": {},
                                "train_cpu_seconds": seconds - 10.0, "test_cpu_seconds": 10.0,
                                "train_seconds": 1e6, "test_seconds": 1e6}))


def plan(results: Path) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), "classic", "--results", str(results)],
                          capture_output=True, text=True, check=True)
    return done.stdout


def test_unmeasured_pairs_are_projected_apart_from_the_measured_total(tmp_path):
    write_cell(tmp_path, "cartpole", "gail", 0, 120.0)
    write_cell(tmp_path, "cartpole", "gail", 1, 240.0)
    out = plan(tmp_path)
    gail = next(line for line in out.splitlines() if line.startswith("gail "))
    # measured: every planned CartPole cell at the 10-demo median (180 s), 2 of them done
    cartpole = [c for c in planned_cells(["classic"]) if c[:2] == ("gail", "cartpole")]
    cells, done, minutes, left = gail.split()[1:5]
    assert (int(cells), int(done)) == (len(planned_cells(["classic"])) // 11, 2)
    assert float(minutes) == len(cartpole) * 3.0  # other counts cost the measured count's
    assert float(minutes) - float(left) == 2 * 3.0
    # projected: median seconds per environment step on CartPole x each other env's budget
    rate = 180.0 / budget("gail", "cartpole")
    expected = sum(rate * budget("gail", env) / 60
                   for method, env, _, _ in planned_cells(["classic"])
                   if method == "gail" and env != "cartpole")
    projected = float(re.search(r"projected (\d+) min", gail).group(1))
    assert abs(projected - expected) <= 0.5
    assert "acrobot" in gail and "cartpole" not in gail.split("  ")[-1]
    # the measured total leaves the projection out; a method with no cell is not projected
    total = next(line for line in out.splitlines() if line.startswith("all (measured)"))
    assert float(total.split()[2]) == float(minutes)
    bc = next(line for line in out.splitlines() if line.startswith("bc "))
    assert bc.endswith("(no CPU-timed cell to project from)")
    assert f"{len(planned_cells(['classic'])) // 11 * 10} planned cells of methods with no" in out


def test_a_bad_cell_file_is_one_line_naming_it(tmp_path):
    write_cell(tmp_path, "cartpole", "gail", 0, 120.0)
    bad = tmp_path / "cells" / "cartpole" / "gail" / "seed1.json"
    bad.write_text(json.dumps({"env": "cartpole", "method": "gail", "seed": 1, "aer": 1.0,
                               "performance": "high", "train_seconds": 1.0,
                               "log": {}}))
    done = subprocess.run([sys.executable, str(SCRIPT), "classic", "--results", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert str(bad) in done.stderr and "performance" in done.stderr
