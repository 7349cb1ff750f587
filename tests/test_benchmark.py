"""The benchmark runner: reproducible numbers, resume, report from JSON, clear errors."""

import json

import pytest

from imitation_datasets.benchmark.cells import Cell
from imitation_datasets.benchmark.report import (
    RESULTS_MD,
    report_from_json,
    summarise,
    write_report,
)
from imitation_datasets.benchmark.runner import run_benchmark
from imitation_datasets.cli import main
from imitation_datasets.core.names import UnknownNameError

KEYS = ("test_returns", "aer", "performance", "accuracy")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bench_data")


def _numbers(cells):
    return [{k: c[k] for k in KEYS} for c in cells]


def test_same_seeds_give_identical_numbers_and_finished_cells_are_not_rerun(tmp_path, data_dir):
    first = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "a", data_dir, workers=2,
                          progress=False)
    assert [c["seed"] for c in first] == [0, 1]
    assert all(c["performance"] > 0.9 for c in first)
    second = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "b", data_dir, workers=1,
                           progress=False)
    assert _numbers(first) == _numbers(second)
    cell = Cell("bc", "cartpole", 0).path(tmp_path / "a")
    stamp = cell.stat().st_mtime_ns
    again = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "a", data_dir, progress=False)
    assert cell.stat().st_mtime_ns == stamp and _numbers(again) == _numbers(first)

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
    # (it used to train cells under "CartPole-v1", then look for envs/CartPole-v1.json)
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
    assert "- run 2: 0 of 4 cells in 0.1 min" in text


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
