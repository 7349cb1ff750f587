"""benchmarks/cell_queue.py: several grids on one pool, stopped in time, same cells as the CLI."""

import dataclasses
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.benchmark.cells import Cell
from imitation_datasets.benchmark.protocol import prepare
from imitation_datasets.benchmark.runner import (
    DataMismatchError,
    GridPlan,
    plan_grid,
    run_benchmark,
    stale_cells,
    stop_workers,
)
from imitation_datasets.data.parquet import read_parquet, write_parquet

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "cell_queue.py"
NUMBERS = ("test_returns", "aer", "performance", "accuracy")
CONTENT = ("dataset_content_fingerprint", "random_content_fingerprint")


def queue(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=False)


def test_two_grids_run_as_one_queue_and_give_the_cli_cells(tmp_path, bench_data_dir):
    out = tmp_path / "q"
    done = queue("bc/cartpole/2/0", "bc/cartpole/3,2/0", "--out", str(out), "--data",
                 str(bench_data_dir), "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "2 of 2 cells to run" in done.stdout  # demos 2 named twice: one cell
    assert "2 cells run, 0 left unfinished" in done.stdout
    assert "cell cells/cartpole/bc/demos2/seed0.json done (" in done.stderr  # one line a cell
    alone = run_benchmark(["bc"], ["cartpole"], 1, tmp_path / "cli", bench_data_dir,
                          workers=1, progress=False, demos=[3])
    cell = json.loads(Cell("bc", "cartpole", 0, 3).path(out).read_text())
    assert {k: cell[k] for k in NUMBERS} == {k: alone[0][k] for k in NUMBERS}
    results = json.loads((out / "benchmark_results.json").read_text())
    assert results["runs"][-1]["command"].startswith("python benchmarks/cell_queue.py")
    assert results["runs"][-1]["cells_run"] == 2 and len(results["cells"]) == 2

    # a time limit drops what has not finished (nothing written) and still writes the report
    stopped = queue("bc/cartpole/4/0-1", "--out", str(out), "--data", str(bench_data_dir),
                    "--workers", "1", "--stop-after", "1")
    assert stopped.returncode == 0, stopped.stderr
    assert "0 cells run, 2 left unfinished" in stopped.stdout
    assert not (out / "cells" / "cartpole" / "bc" / "demos4").exists()
    assert len(json.loads((out / "benchmark_results.json").read_text())["runs"]) == 2


@pytest.mark.parametrize("grid, message", [
    ("bc/cartpole/2", "expected METHODS/ENVS/DEMOS/SEEDS"),
    ("bc/cartpole/two/0", "DEMOS must be integers or -"),
    ("bc/cartpole/-/3-1", "seeds 3-1 run backwards"),
])
def test_bad_grids_are_one_line_errors(grid, message):
    done = queue(grid, "--out", "unused")
    assert done.returncode == 2 and message in done.stderr


@pytest.mark.parametrize("option, message", [
    (["--budget-scale", "0"], "expected a number > 0, got '0'"),
    (["--budget-scale", "nan"], "expected a number > 0, got 'nan'"),
    (["--set", "{absorbing"], "not JSON"),
    (["--set", "[1]"], "expected a JSON object of config fields"),
    (["--set", '{"no_such_field": 1}'], "no_such_field"),
])
def test_bad_probe_options_are_one_line_errors(tmp_path, bench_data_dir, option, message):
    done = queue("bc/cartpole/2/0", "--out", str(tmp_path / "q"), "--data", str(bench_data_dir),
                 *option)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "q" / "cells").exists()


def test_a_queue_of_probes_records_its_budget_and_config(tmp_path, bench_data_dir):
    out = tmp_path / "probe"
    done = queue("bc/cartpole/2/0", "--out", str(out), "--data", str(bench_data_dir),
                 "--workers", "1", "--budget-scale", "0.5", "--set", '{"batch_size": 32}')
    assert done.returncode == 0, done.stderr
    cell = json.loads(next((out / "cells").rglob("seed0.json")).read_text())
    assert cell["budget_scale"] == 0.5 and cell["config_overrides"] == {"batch_size": 32}
    assert cell["config"]["batch_size"] == 32
    alone = run_benchmark(["bc"], ["cartpole"], 1, tmp_path / "cli", bench_data_dir, workers=1,
                          progress=False, demos=[2], budget_scale=0.5,
                          overrides={"batch_size": 32})
    assert {k: cell[k] for k in NUMBERS} == {k: alone[0][k] for k in NUMBERS}
    report = (out / "benchmark_results.md").read_text()
    assert "**A budget probe, not the protocol:**" in report
    assert "**A config probe, not the protocol:**" in report


def test_data_of_the_same_inputs_but_other_content_are_refused(tmp_path, bench_data_dir):
    """Same run fingerprints (env, expert, seeds) but other bytes, as another simulator version
    or CPU could give: refused, naming the content fingerprint; facts written before content
    was recorded get it from their next run's data."""
    data = tmp_path / "data"
    shutil.copytree(bench_data_dir, data)
    out = tmp_path / "out"
    run_benchmark(["bc"], ["cartpole"], 1, out, data, workers=1, progress=False, demos=[2])
    facts_path = out / "envs" / "cartpole.json"
    facts = json.loads(facts_path.read_text())
    content = {key: facts.pop(key) for key in CONTENT}
    assert all(len(value) == 64 for value in content.values())
    facts_path.write_text(json.dumps(facts))  # as an older version wrote it
    plan_grid(["bc"], ["cartpole"], 1, out, data, demos=[2])
    assert {key: json.loads(facts_path.read_text())[key] for key in CONTENT} == content

    random_dir = prepare("cartpole", data).random_dir
    arrays, meta = read_parquet(random_dir)
    obs = np.array(arrays.obs)
    obs[3, 0] = np.nextafter(obs[3, 0], np.float32(np.inf))  # one bit of one observation
    write_parquet(random_dir, dataclasses.replace(arrays, obs=obs), meta)
    assert read_parquet(random_dir)[1]["collection"]["fingerprint"] == facts["random_fingerprint"]
    with pytest.raises(DataMismatchError, match=r"cartpole: the data in .* differ from those "
                       r"the cells in .* were made from \(random_content_fingerprint"):
        plan_grid(["bc"], ["cartpole"], 1, out, data, demos=[2])


def test_cells_are_never_made_from_other_data_than_the_folders_cells(tmp_path, bench_data_dir):
    run_benchmark(["bc"], ["cartpole"], 1, tmp_path, bench_data_dir, workers=1,
                  progress=False, demos=[2])
    facts = tmp_path / "envs" / "cartpole.json"
    recorded = json.loads(facts.read_text())
    facts.write_text(json.dumps({**recorded, "dataset_fingerprint": "0" * 64}))
    with pytest.raises(DataMismatchError, match=r"cartpole: the data in .* differ from those "
                       r"the cells in .* were made from \(dataset_fingerprint"):
        plan_grid(["bc"], ["cartpole"], 1, tmp_path, bench_data_dir, demos=[2])
    done = queue("bc/cartpole/2/0", "--out", str(tmp_path), "--data", str(bench_data_dir))
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith("cell_queue.py: cartpole: the data in")
    assert "Traceback" not in done.stderr
    facts.write_text(json.dumps(recorded))
    # a cell made under another torch release is stale (a release may change a kernel)
    plan = plan_grid(["bc"], ["cartpole"], 1, tmp_path, bench_data_dir, demos=[2])
    assert plan.todo == [] and len(plan.cells) == 1
    path = plan.cells[0].path(tmp_path)
    cell = json.loads(path.read_text())
    assert cell["torch_version"].count(".") == 2 and "+" not in cell["torch_version"]
    path.write_text(json.dumps({**cell, "torch_version": "2.11.0"}))
    reason = stale_cells(plan.cells, tmp_path)[0][1]
    assert reason.startswith("made with torch 2.11.0, now ")
    # one that records none predates the record: kept
    path.write_text(json.dumps({k: v for k, v in cell.items() if k != "torch_version"}))
    assert stale_cells(plan.cells, tmp_path) == []
    # a cell trained with torch's Adam (arithmetic 1: it records none) is stale, and the queue
    # says so in one line instead of adding cells of another arithmetic to the folder
    assert cell["arithmetic"] == 2
    path.write_text(json.dumps({k: v for k, v in cell.items() if k != "arithmetic"}))
    reason = stale_cells(plan.cells, tmp_path)[0][1]
    assert reason.startswith("made with arithmetic 1, now 2 ")
    done = queue("bc/cartpole/2/1", "--out", str(tmp_path), "--data", str(bench_data_dir))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "made with arithmetic 1, now 2" in done.stderr.splitlines()[-1]


def test_grids_add_up_in_order_without_repeating_a_cell():
    a, b, c = (Cell("bc", "cartpole", s) for s in range(3))
    both = GridPlan([a, b], [b], {"cartpole": {}}) + GridPlan([b, c], [b, c], {"acrobot": {}})
    assert both.cells == [a, b, c] and both.todo == [b, c]
    assert list(both.facts) == ["cartpole", "acrobot"]


def test_stopped_workers_end_at_once_and_leave_nothing_running():
    import multiprocessing as mp

    started = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(time.sleep, t) for t in (0.01, 60, 60, 60)]
        finished = []
        with pytest.raises(TimeoutError):
            for future in as_completed(futures, timeout=5):
                finished.append(future.result())
        processes = list(pool._processes.values())
        manager = pool._executor_manager_thread
        stop_workers(pool)
        # every future is settled when it returns, not some time later
        assert all(f.cancelled() or f.done() for f in futures)
        assert not manager.is_alive()
    assert finished == [None]
    assert time.perf_counter() - started < 30
    assert not any(p.is_alive() for p in processes)
    assert all(f.cancelled() or f.done() for f in futures)


def test_the_cli_stops_in_time_and_a_rerun_continues(tmp_path, bench_data_dir, capsys):
    from imitation_datasets.cli import main

    args = ["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1", "--demos",
            "2", "--out", str(tmp_path), "--data", str(bench_data_dir), "--workers", "1",
            "--quiet"]
    assert main([*args, "--stop-after", "0.5"]) == 0
    assert "1 cell(s) not finished, dropped (rerun to continue)" in capsys.readouterr().err
    results = json.loads((tmp_path / "benchmark_results.json").read_text())
    assert results["cells"] == [] and results["runs"][-1]["cells_total"] == 1
    assert main(args) == 0  # the rerun runs the dropped cell
    results = json.loads((tmp_path / "benchmark_results.json").read_text())
    assert len(results["cells"]) == 1 and results["runs"][-1]["cells_run"] == 1
    with pytest.raises(SystemExit) as exited:
        main([*args, "--stop-after", "0"])
    assert exited.value.code == 2
    assert "argument --stop-after: stop_after must be > 0 seconds" in capsys.readouterr().err


def test_one_benchmark_run_per_results_folder(tmp_path, bench_data_dir, capsys):
    """A second run into a folder that a live run writes stops at once, naming the holder;
    the lock goes with the holder's process, even a killed one."""
    from imitation_datasets.benchmark.results_lock import ResultsBusyError, results_writer
    from imitation_datasets.cli import main

    out = tmp_path / "busy"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom imitation_datasets.benchmark.results_lock import results_writer\n"
         f"with results_writer({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsBusyError, match=rf"{out}: another benchmark run is writing "
                                                   rf"this results folder \(pid {holder.pid}\)"):
            run_benchmark(["bc"], ["cartpole"], 1, out, bench_data_dir, workers=1,
                          progress=False, demos=[2])
        args = ["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1", "--demos",
                "2", "--out", str(out), "--data", str(bench_data_dir), "--quiet"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "another benchmark run is writing this results folder" in err
        assert len(err.strip().splitlines()) == 1
        busy = queue("bc/cartpole/2/0", "--out", str(out), "--data", str(bench_data_dir))
        assert busy.returncode == 2 and "another benchmark run" in busy.stderr
        assert not list(out.glob("cells/**/*.json"))  # nothing was run by the refused ones
    finally:
        holder.kill()
        holder.wait()
    # the killed holder's lock is gone; this thread holds it now
    with results_writer(out), pytest.raises(ResultsBusyError, match="this process"):
        run_benchmark(["bc"], ["cartpole"], 1, out, bench_data_dir, workers=1, progress=False,
                      demos=[2])
    run_benchmark(["bc"], ["cartpole"], 1, out, bench_data_dir, workers=1, progress=False,
                  demos=[2])
    assert len(list(out.glob("cells/**/*.json"))) == 1


def test_a_results_folder_whose_lock_file_is_a_link_is_refused(tmp_path, capsys):
    from imitation_datasets.cli import main

    out = tmp_path / "hostile"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / ".writer.lock").symlink_to(victim)
    assert main(["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1",
                 "--out", str(out), "--data", str(tmp_path / "data"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lock file" in err and "plain file" in err
    assert victim.read_text() == "keep me" and not (tmp_path / "data").exists()
