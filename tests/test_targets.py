"""The report judges the issues' targets from the cells and reads the budget probes."""

import json
from pathlib import Path

import pytest

from imitation_datasets.benchmark.report import (
    ReportFormatError,
    markdown,
    report_from_json,
    summarise,
)
from imitation_datasets.benchmark.targets import (
    ProbeFormatError,
    Target,
    probe_records,
    target_table,
    targets,
)
from imitation_datasets.core.errors import ConfigError

FACTS = {"env_id": "CartPole-v1", "expert_return": 500.0, "random_return": 20.0,
         "protocol": {"train_episodes": 100},
         "leakage": {"passed": True, "test_seeds": 3, "training_start_states": 3,
                     "min_distance": 0.1}}


def cell(method, seed, perf, demos=None, env="cartpole", **extra):
    return {"env": env, "method": method, "seed": seed, "demos": demos, "aer": perf,
            "performance": perf, "accuracy": None, "train_seconds": 1.0, "test_seconds": 0.0,
            "env_steps": 0, "log": {}, **extra}


def judge(table, cells, probes=()):
    return {t["target"]: t for t in targets(cells, {"cartpole": FACTS}, probes, table)}


def test_a_threshold_is_met_or_missed_only_once_its_seeds_have_run():
    table = {"t": Target(issue=1, text="GAIL ≥ 0.9", methods=["gail"], envs=["cartpole"],
                         seeds=3, demos=10, threshold=0.9)}
    two = [cell("gail", s, 0.95, demos=10) for s in range(2)]
    row = judge(table, two)["t"]["rows"][0]
    assert (row["verdict"], row["seeds"], row["mean"]) == ("pending", 2, pytest.approx(0.95))
    row = judge(table, [*two, cell("gail", 2, 0.92, demos=10)])["t"]["rows"][0]
    assert row["verdict"] == "met" and "curve" not in row
    missed = [*two, cell("gail", 2, 0.5, demos=10), cell("gail", 0, 0.3, demos=1)]
    row = judge(table, missed)["t"]["rows"][0]
    assert row["verdict"] == "missed"
    # the curve shows every demonstration count the method ran on the env
    assert [(p["demos"], p["seeds"]) for p in row["curve"]] == [(1, 1), (10, 3)]
    # cells of other demonstration counts do not count towards the target
    assert judge(table, [cell("gail", s, 1.0) for s in range(3)])["t"]["rows"][0][
        "verdict"] == "not run"


def test_the_budget_it_would_need_comes_from_the_probes():
    table = {"t": Target(issue=1, text="GAIL ≥ 0.9", methods=["gail"], envs=["cartpole"],
                         seeds=1, demos=10, threshold=0.9)}
    cells = [cell("gail", 0, 0.8, demos=10)]

    def probe(scale, perf, seed=0):
        return {"env": "cartpole", "method": "gail", "demos": 10, "seed": seed,
                "budget_scale": scale, "performance": perf, "probe": f"x{scale:g}"}

    budget = judge(table, cells, [probe(2, 0.85), probe(4, 0.95)])["t"]["rows"][0]["budget"]
    assert budget["reached_at"] == 4
    assert [(p["scale"], p["mean"]) for p in budget["probes"]] == [(2, 0.85), (4, 0.95)]
    results = {"targets": list(judge(table, cells, [probe(2, 0.85), probe(4, 0.95)]).values()),
               "envs": {"cartpole": FACTS}}
    from imitation_datasets.benchmark.targets import target_lines

    assert "reaches the goal at ×4 the budget" in "\n".join(target_lines(results))
    results["targets"] = list(judge(table, cells, [probe(2, 0.7), probe(2, 0.8, 1)]).values())
    assert "not a budget shortfall up to ×2 (×2: 0.750 (2))" in "\n".join(target_lines(results))
    results["targets"] = list(judge(table, cells).values())
    assert ("--methods gail --envs cartpole --demos 10 --seeds 1 --budget-scale 2"  # its seeds
            in "\n".join(target_lines(results)))


def test_versus_matches_within_the_ci_and_waits_for_the_other_methods_seeds():
    table = {"t": Target(issue=1, text="IQ matches BC", methods=["iq_learn_offline"],
                         envs=["cartpole"], seeds=3, versus="bc")}
    iq = [cell("iq_learn_offline", s, p) for s, p in enumerate((0.97, 0.99, 1.0))]
    assert judge(table, iq)["t"]["rows"][0]["verdict"] == "pending"  # BC has not run
    level = [cell("bc", s, p) for s, p in enumerate((0.98, 0.99, 1.0))]
    row = judge(table, [*iq, *level])["t"]["rows"][0]
    assert row["verdict"] == "met" and row["mean"] < row["goal"]  # within IQ's CI
    better = [cell("bc", s, 1.0) for s in range(3)]
    low = [cell("iq_learn_offline", s, p) for s, p in enumerate((0.5, 0.6, 0.7))]
    assert judge(table, [*low, *better])["t"]["rows"][0]["verdict"] == "missed"


def test_best_of_judges_the_best_method_with_the_seeds_needed():
    table = {"t": Target(issue=1, text="best online", methods=["gail", "sqil"],
                         envs=["cartpole"], seeds=2, demos=1, threshold=0.9, best_of=True)}
    cells = [cell("gail", 0, 0.95, demos=1), cell("gail", 1, 0.93, demos=1),
             cell("sqil", 0, 0.99, demos=1)]  # sqil is higher but has one seed
    rows = judge(table, cells)["t"]["rows"]
    assert len(rows) == 1 and (rows[0]["method"], rows[0]["verdict"]) == ("gail", "met")
    assert rows[0]["not_run"] == []
    row = judge(table, cells[:2])["t"]["rows"][0]
    assert row["not_run"] == ["sqil"]  # the verdict is of the methods that ran, and says so
    from imitation_datasets.benchmark.targets import target_lines

    text = "\n".join(target_lines({"targets": list(judge(table, cells[:2]).values()),
                                     "envs": {"cartpole": FACTS}}))
    assert "| GAIL (not run: SQIL) | CartPole-v1 |" in text
    # a best method that misses is not final while another, short of seeds, scores higher
    low = [cell("gail", s, 0.5, demos=1) for s in range(2)]
    row = judge(table, [*low, cell("sqil", 0, 0.99, demos=1)])["t"]["rows"][0]
    assert (row["method"], row["verdict"]) == ("sqil", "pending")
    row = judge(table, [*low, cell("sqil", 0, 0.4, demos=1)])["t"]["rows"][0]
    assert (row["method"], row["verdict"]) == ("gail", "missed")


def test_anchor_goals_and_families_not_held_by_the_report():
    table = {"t": Target(issue=15, text="BC ≥ imitation", methods=["bc"], envs=["hopper"],
                         seeds=1, demos=25, anchor="imitation-v1"),
             "c": Target(issue=14, text="DAgger", methods=["dagger"], envs=["classic"],
                         seeds=1, threshold=0.95)}
    found = judge(table, [cell("dagger", 0, 0.99)])
    assert "t" not in found  # a classic report does not list a MuJoCo target
    rows = found["c"]["rows"]
    assert [r["env"] for r in rows][:2] == ["cartpole", "acrobot"]  # the family, not run too
    assert [r["verdict"] for r in rows].count("not run") == len(rows) - 1
    hopper = {**FACTS, "env_id": "Hopper-v5", "protocol": {"train_episodes": 100}}
    found = targets([cell("bc", 0, 0.99, demos=25, env="hopper")], {"hopper": hopper}, (), table)
    assert found[0]["rows"][0]["goal"] == pytest.approx(1.003)
    assert found[0]["rows"][0]["verdict"] == "missed"


def test_the_shipped_targets_load():
    table = target_table()
    assert {"classic-dagger", "continuous-gail-25", "continuous-online-1"} <= set(table)
    assert table["continuous-online-1"].best_of


@pytest.mark.parametrize("body, message", [
    ("targets:\n  x: {issue: 1, text: t, methods: [bc], envs: [cartpole], seeds: 1}\n",
     "exactly one of threshold, anchor, versus"),
    ("targets:\n  x: {issue: 1, text: t, methods: [bc], envs: [cartpole], seeds: 1,"
     " threshold: 0.9, versus: bc}\n", "exactly one of"),
    ("targets:\n  x: {issue: 1, text: t, methods: [nope], envs: [cartpole], seeds: 1,"
     " threshold: 0.9}\n", "unknown method 'nope'"),
    ("targets:\n  x: {issue: 1, text: t, methods: [bc], envs: [cartpole], seeds: 1,"
     " anchor: imitation-v1}\n", "does not score every"),
    ("targets:\n  x: {issue: 1, text: t, methods: [bc], envs: [cartpole], seeds: 0,"
     " threshold: 0.9}\n", "seeds must be >= 1"),
])
def test_bad_targets_files_get_one_line_errors(tmp_path, body, message):
    path = tmp_path / "targets.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as err:
        target_table(path)
    assert "targets.yaml [targets.x]" in str(err.value) and "\n" not in str(err.value)


def test_probe_folders_feed_the_report_and_its_json_alone(tmp_path):
    out = tmp_path / "results"
    for folder, cells in ((out, [cell("gail", s, 0.8, demos=10) for s in range(5)]),
                          (out / "probes" / "x2", [cell("gail", 0, 0.95, demos=10,
                                                        budget_scale=2.0)])):
        for c in cells:
            path = folder / "cells" / "cartpole" / "gail" / "demos10" / f"seed{c['seed']}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(c))
        (folder / "envs").mkdir(parents=True)
        (folder / "envs" / "cartpole.json").write_text(json.dumps(FACTS))
    records = probe_records(out)
    assert [(r["budget_scale"], r["performance"], r["probe"]) for r in records] == [
        (2.0, 0.95, "x2")]
    report_from_json(out)
    text = (out / "benchmark_results.md").read_text()
    assert "reaches the goal at ×2 the budget (×2: 0.950 (1))" in text
    page = (out / "index.html").read_text()
    assert "<h2>Targets of the issues</h2>" in page and "<td>missed</td>" in page
    # the JSON alone gives the same report (the probes travel in it)
    again = tmp_path / "again"
    report_from_json(out / "benchmark_results.json", again)
    assert (again / "benchmark_results.md").read_text() == text
    probe_report = report_from_json(out / "probes" / "x2").read_text()
    assert "Targets of the issues" not in probe_report  # a probe is not the protocol
    results = json.loads((out / "benchmark_results.json").read_text())
    assert markdown(summarise(results["cells"], results["envs"],
                              {"probes": results["probes"]})).count("×2: 0.950") == 1
    bad_cell = out / "probes" / "x2" / "cells" / "cartpole" / "gail" / "demos10" / "seed0.json"
    saved = bad_cell.read_text()
    bad_cell.write_text(json.dumps({**json.loads(saved), "budget_scale": "big"}))
    with pytest.raises(ReportFormatError, match="seed0.json: budget_scale: expected a number"):
        probe_records(out)  # the file and the field named as the cell is read
    bad_cell.write_text(json.dumps({**json.loads(saved), "performance": float("nan")}))
    with pytest.raises(ProbeFormatError, match="probes/x2: a cell has no valid") as err:
        probe_records(out)
    assert "\n" not in str(err.value)
    bad_cell.write_text(saved)
    results["probes"][0]["performance"] = "high"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(results))
    with pytest.raises(ReportFormatError, match=r"results.probes\[0\].performance"):
        report_from_json(bad, tmp_path / "bad")


def test_no_targets_for_folders_without_a_family(tmp_path):
    envs = {"a": {**FACTS, "env_id": "A-v0"}}
    assert targets([cell("bc", 0, 1.0, env="a")], envs) == []
    assert "Targets of the issues" not in markdown(summarise([cell("bc", 0, 1.0, env="a")], envs))


def test_env_unknown_to_targets_is_a_config_error(tmp_path):
    path = Path(tmp_path) / "targets.yaml"
    path.write_text("targets:\n  x: {issue: 1, text: t, methods: [bc], envs: [nowhere],"
                    " seeds: 1, threshold: 0.9}\n")
    with pytest.raises(Exception, match="nowhere"):
        target_table(path)
