"""The benchmark runner: reproducible numbers, resume, report from JSON, clear errors."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imitation_datasets.benchmark import runner
from imitation_datasets.benchmark.cells import Cell
from imitation_datasets.benchmark.options import METHODS
from imitation_datasets.benchmark.report import (
    RESULTS_MD,
    report_from_json,
    summarise,
    write_report,
)
from imitation_datasets.benchmark.runner import run_benchmark, run_cells
from imitation_datasets.cli import main
from imitation_datasets.core.config import to_mapping
from imitation_datasets.core.names import UnknownNameError

KEYS = ("test_returns", "aer", "performance", "accuracy")


@pytest.fixture
def data_dir(bench_data_dir):
    return bench_data_dir


def _numbers(cells):
    return [{k: c[k] for k in KEYS} for c in cells]


def test_same_seeds_give_identical_numbers_and_finished_cells_are_not_rerun(tmp_path, data_dir,
                                                                            monkeypatch):
    first = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "a", data_dir, workers=2,
                          progress=False)
    assert [c["seed"] for c in first] == [0, 1]
    assert all(c["performance"] > 0.9 for c in first)
    # what a cell costs a free core (CPU seconds of its one thread), beside its wall time
    assert all(min(c["train_cpu_seconds"], c["test_cpu_seconds"]) > 0 for c in first)
    second = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "b", data_dir, workers=1,
                           progress=False)
    assert _numbers(first) == _numbers(second)
    cell = Cell("bc", "cartpole", 0).path(tmp_path / "a")
    stamp = cell.stat().st_mtime_ns
    again = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "a", data_dir, progress=False)
    assert cell.stat().st_mtime_ns == stamp and _numbers(again) == _numbers(first)
    # one seed alone (--first-seed 1 --seeds 1) is the same cell as within the grid
    alone = run_benchmark(["bc"], ["cartpole"], 1, tmp_path / "c", data_dir, progress=False,
                          first_seed=1)
    assert [c["seed"] for c in alone] == [1] and _numbers(alone) == _numbers(first[1:])

    facts = {"cartpole": json.loads((tmp_path / "a" / "envs" / "cartpole.json").read_text())}
    assert facts["cartpole"]["leakage"]["passed"]
    results = summarise(first, facts, {"command": "test"})
    write_report(results, tmp_path / "a", with_plots=False)
    table = (tmp_path / "a" / RESULTS_MD).read_text()
    assert "| CartPole-v1 | BC |" in table and "passed" in table
    # the expert's own score on the test seeds (a perfect clone's ceiling) is reported
    assert facts["cartpole"]["expert_test_return"] == 500.0
    assert "- CartPole-v1: AER 500.00, performance 1.000" in table
    (tmp_path / "a" / RESULTS_MD).unlink()
    report_from_json(tmp_path / "a" / "benchmark_results.json")
    assert (tmp_path / "a" / RESULTS_MD).read_text() == table
    assert (tmp_path / "a" / "performance.png").stat().st_size > 0
    assert (tmp_path / "a" / "performance_profile.png").stat().st_size > 0

    # the CLI with the Gymnasium id resumes the same cells (none is run) and finds their facts
    # (it used to train cells under "CartPole-v1", then look for envs/CartPole-v1.json);
    # a cell file touched during the run (a git checkout) is not counted as run by it
    other = next(p for p in (tmp_path / "a" / "cells").rglob("*.json") if p != cell)

    def touching(*args, **kwargs):
        os.utime(other, ns=(other.stat().st_atime_ns, other.stat().st_mtime_ns + 10**9))
        return run_cells(*args, **kwargs)

    monkeypatch.setattr(runner, "run_cells", touching)
    assert main(["benchmark", "--methods", "bc", "--envs", "CartPole-v1", "--seeds", "2",
                 "--out", str(tmp_path / "a"), "--data", str(data_dir), "--workers", "1",
                 "--quiet"]) == 0
    assert cell.stat().st_mtime_ns == stamp
    assert not (tmp_path / "a" / "cells" / "CartPole-v1").exists()
    results = json.loads((tmp_path / "a" / "benchmark_results.json").read_text())
    assert list(results["envs"]) == ["cartpole"] and results["runs"][-1]["cells_run"] == 0
    assert _numbers(results["cells"]) == _numbers(first)


def test_resumed_runs_keep_the_history_of_earlier_invocations(tmp_path):
    from imitation_datasets.benchmark.report import markdown, previous_runs

    assert previous_runs(tmp_path) == []
    first = {"wall_seconds": 1200.0, "cells_run": 4, "cells_total": 4, "jobs": 2,
             "backend": "local"}
    (tmp_path / "benchmark_results.json").write_text(json.dumps({"runs": [first]}))
    assert previous_runs(tmp_path) == [first]
    resumed = {**first, "wall_seconds": 6.0, "cells_run": 0}
    text = markdown({"envs": {}, "summary": {}, "cells": [], "command": "il-datasets benchmark",
                     "runs": [first, resumed]})
    assert "- run 1: 4 of 4 cells in 20.0 min" in text
    assert "- run 2: no cell finished (0.1 min in all" in text
    text = markdown({"envs": {}, "summary": {}, "cells": [], "command": "il-datasets benchmark",
                     "runs": [first, resumed, resumed, first]})
    assert "- run 4: 4 of 4 cells" in text and "- runs 2, 3: no cell finished (0.2 min" in text


def test_report_refuses_to_publish_a_leaky_benchmark(tmp_path, data_dir):
    from imitation_datasets.benchmark.protocol import LeakageError

    envs = {"cartpole": {"env_id": "CartPole-v1", "leakage": {"passed": False}}}
    with pytest.raises(LeakageError, match="refusing to publish"):
        write_report(summarise([], envs), tmp_path)


@pytest.mark.parametrize("methods, envs, message", [
    (["bcx"], ["cartpole"], "unknown method 'bcx'"),
    (["bc"], ["cartpol"], "unknown benchmark environment 'cartpol'"),
])
def test_unknown_names(tmp_path, methods, envs, message):
    with pytest.raises(UnknownNameError, match=message):
        run_benchmark(methods, envs, 1, tmp_path / "out", tmp_path / "data", progress=False)


def test_fewer_demonstrations_are_their_own_cells_and_stale_cells_are_refused(
        tmp_path, data_dir, capsys):
    from imitation_datasets.benchmark.runner import StaleCellError, cell_demos, stale_cells

    assert cell_demos("cartpole", 100) is None  # the protocol's count: the table's own cells
    first = run_benchmark(["bc"], ["cartpole"], 1, tmp_path, data_dir, workers=1,
                          progress=False, demos=[2])
    path = Cell("bc", "cartpole", 0, 2).path(tmp_path)
    assert path.parent.name == "demos2" and first[0]["demos"] == 2
    assert first[0]["env_steps"] == 0  # BC never plays
    assert first[0]["log"]["records"]  # it trained

    # a cell made with another config of its method is never silently kept or replaced
    tampered = json.loads(path.read_text())
    tampered["config"]["epochs"] = 999
    path.write_text(json.dumps(tampered))
    with pytest.raises(StaleCellError, match=r"demos2/seed0.json: made with another bc config "
                       r"\(epochs: 999, now \d+\); 1 such cell"):
        run_benchmark(["bc"], ["cartpole"], 1, tmp_path, data_dir, progress=False, demos=[2])
    again = run_benchmark(["bc"], ["cartpole"], 1, tmp_path, data_dir, workers=1,
                          progress=False, demos=[2], overwrite=True)
    assert _numbers(again) == _numbers(first) and again[0]["config"] == first[0]["config"]
    # a config field added later, at a default that keeps the old behaviour, leaves cells valid
    cell = Cell("bc", "cartpole", 0, 2)
    trimmed = json.loads(path.read_text())
    defaults = cell.spec.config_defaults()
    added = next(k for k, v in trimmed["config"].items() if defaults.get(k) == v)
    del trimmed["config"][added]
    path.write_text(json.dumps(trimmed))
    assert stale_cells([cell], tmp_path) == []
    # fewer demonstrations are repeated to the full set's gradient steps; a cell made before
    # that rule is stale for a method whose epochs go over the demonstrations, not for others
    assert first[0]["demo_repeats"] == 50  # 2 of 100 equal-length CartPole episodes
    del trimmed["demo_repeats"]
    path.write_text(json.dumps(trimmed))
    assert "(demo_repeats)" in stale_cells([cell], tmp_path)[0][1]
    path.write_text(json.dumps(again[0]))

    # the CLI: more demonstrations than the protocol's training episodes is a one-line error
    args = ["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1", "--out",
            str(tmp_path), "--data", str(data_dir), "--workers", "1", "--quiet"]
    assert main([*args, "--demos", "101"]) == 2
    assert "demos: cartpole has 100 training episodes; got 101" in capsys.readouterr().err
    # the report covers every cell of the folder, not only this invocation's
    other = tmp_path / "cells" / "cartpole" / "bc" / "demos2" / "seed7.json"
    other.write_text(json.dumps({**first[0], "seed": 7}))
    code = main([*args, "--demos", "2"])
    assert code == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "benchmark_results.json").read_text())
    assert sorted(c["seed"] for c in results["cells"]) == [0, 7]
    assert results["runs"][-1]["cells_run"] == 0
    assert results["runs"][-1]["command"].endswith("--demos 2")
    # a results folder regenerates its report from its cell files, keeping its run history
    (tmp_path / "cells" / "cartpole" / "bc" / "demos2" / "seed8.json").write_text(
        json.dumps({**first[0], "seed": 8}))
    report_from_json(tmp_path)
    again = json.loads((tmp_path / "benchmark_results.json").read_text())
    assert sorted(c["seed"] for c in again["cells"]) == [0, 7, 8]
    assert again["runs"] == results["runs"]
    assert again["summary"]["cartpole"]["bc"]["demos"] == 2
    assert "| CartPole-v1 | BC (2 demos) |" in (tmp_path / RESULTS_MD).read_text()


def test_the_default_method_list_is_every_registered_method():
    from imitation_datasets.benchmark.options import METHODS, BenchmarkOptions
    from imitation_datasets.methods import METHODS as REGISTERED

    assert METHODS == tuple(REGISTERED) == BenchmarkOptions().methods


def test_a_missing_matplotlib_skips_the_plots_with_a_note(tmp_path, monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib":
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    envs = {"a": {"env_id": "A-v0", "expert_return": 1.0, "random_return": 0.0,
                  "leakage": {"passed": True, "test_seeds": 1, "training_start_states": 1,
                              "min_distance": 1.0}}}
    cells = [{"env": "a", "method": "bc", "seed": 0, "aer": 1.0, "performance": 1.0,
              "accuracy": None, "train_seconds": 1.0, "log": {}}]
    write_report(summarise(cells, envs), tmp_path)
    assert (tmp_path / RESULTS_MD).exists() and (tmp_path / "benchmark_results.json").exists()
    assert not list(tmp_path.glob("*.png"))
    assert "plots skipped: matplotlib is not installed" in caplog.text


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper is not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG)")
def test_cell_workers_die_with_a_killed_driver(tmp_path):
    """A driver killed mid-cell takes its workers with it instead of leaving them computing."""
    script = tmp_path / "driver.py"
    script.write_text(
        "import os, time\n"
        "from imitation_datasets.benchmark.runner import cell_pool\n"
        "if __name__ == '__main__':\n"
        "    pool = cell_pool(1)\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    pool.submit(time.sleep, 120)  # a long cell\n"
        "    time.sleep(1.0)\n"
        "    os._exit(0)  # killed: no shutdown of the pool\n")
    driver = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120, check=True)
    worker = int(driver.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(worker)


def test_a_budget_probe_scales_only_the_budget_and_never_mixes_with_protocol_cells(
        tmp_path, data_dir, capsys, monkeypatch):
    """``--budget-scale K``: the answer to "what budget would a missed target need"."""
    from imitation_datasets.benchmark.runner import StaleCellError
    from imitation_datasets.methods import load_config
    from imitation_datasets.methods.configuration import scale_budget

    protocol = load_config("bc", "CartPole-v1")
    args = ["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1", "--demos",
            "2", "--data", str(data_dir), "--workers", "1", "--quiet", "--budget-scale", "0.2"]
    assert main([*args, "--out", str(tmp_path / "probe")]) == 0, capsys.readouterr().err
    cell = json.loads(Cell("bc", "cartpole", 0, 2).path(tmp_path / "probe").read_text())
    assert cell["budget_scale"] == 0.2
    assert cell["config"]["epochs"] == round(protocol.epochs * 0.2)  # the budget, scaled
    assert {k: v for k, v in cell["config"].items() if k != "epochs"} == {
        k: v for k, v in to_mapping(protocol).items() if k != "epochs"}  # nothing else
    assert cell["log"]["epochs"] == cell["config"]["epochs"]
    assert "A budget probe, not the protocol" in (tmp_path / "probe" / RESULTS_MD).read_text()
    # protocol cells and probe cells never share a folder silently
    with pytest.raises(StaleCellError, match=rf"another bc config \(epochs: "
                       rf"{cell['config']['epochs']}, now {protocol.epochs}\)"):
        run_benchmark(["bc"], ["cartpole"], 1, tmp_path / "probe", data_dir, progress=False,
                      demos=[2])
    # every shipped method declares what its budget is
    for name in METHODS:
        config = load_config(name, "CartPole-v1")
        doubled = scale_budget(config, 2)
        assert config.budget_fields and all(
            getattr(doubled, f) == 2 * getattr(config, f) for f in config.budget_fields), name
    # a user's method without a config has no budget to scale: one line, exit status 2
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "examples"))
    assert main([*args[:2], "linear_policy:LinearPolicy", *args[3:], "--out",
                 str(tmp_path / "own")]) == 2
    assert "has no config whose budget could be scaled" in capsys.readouterr().err
