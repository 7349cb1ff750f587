"""The published report is what the report command makes from the committed cells."""

import json
from pathlib import Path

import pytest

from imitation_datasets.benchmark.report import markdown, summarise

ROOT = Path(__file__).parent.parent
PUBLISHED = [*(ROOT / name for name in ("results", "results_mujoco", "results_box2d")
               if (ROOT / name / "benchmark_results.json").is_file()),
             *sorted(path.parent for path in ROOT.glob("results*/probes/*/benchmark_results.json"))]
"""The published results folders: the classic grid's, the continuous families' and the budget
probes' (``il-datasets benchmark --budget-scale``)."""


@pytest.fixture(scope="module", params=PUBLISHED, ids=lambda p: str(p.relative_to(ROOT)))
def published(request):
    return request.param, json.loads((request.param / "benchmark_results.json").read_text())


def test_published_cells_are_the_committed_cell_files(published):
    from imitation_datasets.benchmark.runner import cell_files

    folder, results = published
    committed = [json.loads(path.read_text()) for path in cell_files(folder)]
    key = lambda c: (c["env"], c["method"], c.get("demos") or 0, c["seed"])  # noqa: E731
    assert sorted(committed, key=key) == sorted(results["cells"], key=key)


def test_published_probes_are_the_committed_probe_folders(published):
    from imitation_datasets.benchmark.targets import probe_records

    folder, results = published
    assert results.get("probes", []) == probe_records(folder)


def test_published_aggregates_are_recomputed_from_the_cells(published):
    from imitation_datasets.benchmark.report import RECOMPUTED

    folder, results = published
    rest = {k: v for k, v in results.items() if k not in RECOMPUTED or k == "envs"}
    again = summarise(results["cells"], results["envs"], rest)
    assert again == results  # statistics changed: rerun il-datasets benchmark-report
    assert (folder / "benchmark_results.md").read_text() == markdown(again)


FACTS = {"expert_return": 1.0, "random_return": 0.0,
         "leakage": {"passed": True, "test_seeds": 3, "training_start_states": 3,
                     "min_distance": 0.1}}
"""Environment facts that the Markdown report reads (synthetic)."""


def test_aggregates_across_environments():
    cells = [{"env": env, "method": method, "seed": seed, "aer": score, "performance": score,
              "accuracy": None, "train_seconds": 1.0, "log": {}}
             for env, scores in (("a", (0.2, 0.4, 0.6)), ("b", (1.0, 1.2, 0.8)))
             for method, shift in (("bc", 0.0), ("iupe", 0.1))
             for seed, score in enumerate(s + shift for s in scores)]
    envs = {"a": {"env_id": "A-v0"}, "b": {"env_id": "B-v0"}}
    results = summarise(cells, envs)
    bc = results["aggregates"]["bc"]
    assert bc["envs"] == ["a", "b"] and bc["performance"]["runs"] == 6
    assert bc["performance"]["mean"]["value"] == pytest.approx(0.7)
    assert bc["performance"]["iqm"]["value"] == pytest.approx((0.4 + 0.6 + 0.8 + 1.0) / 4)
    assert bc["performance"]["optimality_gap"]["value"] == pytest.approx(1 - 4 / 6)  # 1.2 is 1
    iqm = bc["performance"]["iqm"]
    assert iqm["ci_low"] <= iqm["value"] <= iqm["ci_high"]
    assert list(results["aggregates"]) == ["bc", "iupe"]
    # iupe is bc + 0.1 run for run: on each env bc's run beats 3 of iupe's 9 pairs
    pair = results["improvement"][0]
    assert (pair["x"], pair["y"], pair["envs"]) == ("bc", "iupe", ["a", "b"])
    assert pair["value"] == pytest.approx(3 / 9)
    assert 0 <= pair["ci_low"] <= pair["value"] <= pair["ci_high"] <= 1
    envs = {key: {**facts, **FACTS} for key, facts in envs.items()}
    assert "Probability of improvement" in markdown(summarise(cells, envs))


def test_performance_against_the_expert_on_the_test_seeds_is_reported_beside_the_headline():
    cells = [{"env": "a", "method": "bc", "seed": seed, "aer": aer, "performance": 0.0,
              "accuracy": None, "train_seconds": 1.0, "log": {}}
             for seed, aer in enumerate((80.0, 90.0))]
    envs = {"a": {**FACTS, "env_id": "A-v0", "random_return": 0.0, "expert_return": 100.0,
                  "expert_test_return": 90.0}}
    entry = summarise(cells, envs)["summary"]["a"]["bc"]["performance_vs_expert"]
    assert entry["mean"] == pytest.approx((80 / 90 + 1.0) / 2)
    assert "Performance against the curated expert" in markdown(summarise(cells, envs))


def test_sample_efficiency_curves_come_from_cells_on_other_demo_counts():
    facts = {**FACTS, "env_id": "A-v0", "random_return": 0.0, "expert_return": 100.0,
             "protocol": {"train_episodes": 100}}
    cells = [{"env": "a", "method": "bc", "seed": seed, "demos": demos, "aer": perf * 100,
              "performance": perf, "accuracy": None, "train_seconds": 2.0, "test_seconds": 1.0,
              "env_steps": 0, "log": {}}
             for demos, perfs in ((1, (0.2, 0.4)), (10, (0.7, 0.9)), (100, (1.0, 0.98)))
             for seed, perf in enumerate(perfs)]
    results = summarise(cells, {"a": facts})
    # the table and its aggregates use only the protocol's 100 demonstrations
    assert results["summary"]["a"]["bc"]["performance"]["mean"] == pytest.approx(0.99)
    assert results["aggregates"]["bc"]["performance"]["runs"] == 2
    curve = results["sample_efficiency"]["a"]["bc"]
    assert [p["demos"] for p in curve] == [1, 10, 100]
    assert [p["performance"]["mean"] for p in curve] == pytest.approx([0.3, 0.8, 0.99])
    assert results["cost"]["bc"] == {"cells": 6, "cell_seconds": 18.0, "env_steps": 0,
                                     "cpu_cells": 0, "cpu_seconds": 0.0}
    text = markdown(results)
    assert "Sample efficiency on A-v0" in text and "| BC | 0.300 [" in text
    # cells written before demos was recorded belong to the table
    old = [{k: v for k, v in c.items() if k != "demos"} for c in cells if c["demos"] == 100]
    assert summarise(old, {"a": facts})["summary"]["a"]["bc"]["performance"]["mean"] == \
        pytest.approx(0.99)


def test_every_method_has_its_own_look_in_every_plot():
    from imitation_datasets.benchmark.options import METHODS
    from imitation_datasets.benchmark.plots import method_styles

    styles = method_styles(list(METHODS))
    looks = {(s["color"], s["linestyle"]) for s in styles.values()}
    assert len(METHODS) > 10 and len(looks) == len(METHODS)  # the eleventh is not the first
    # a method keeps its look whatever else is plotted beside it
    assert method_styles(["bc", "gail"])["gail"] == method_styles(["bc", "gail", "x"])["gail"]


def test_a_sample_efficiency_point_with_fewer_seeds_than_planned_is_marked_short(tmp_path):
    from imitation_datasets.benchmark.plots import plots, short_points

    def point(demos, seeds):
        return {"demos": demos, "seeds": list(range(seeds)),
                "performance": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}}

    curves = {"hopper": {"bc": [point(1, 1), point(25, 5)], "gail": [point(1, 3)]}}
    results = {"sample_efficiency": curves, "progress": {"families": ["mujoco"]},
               "envs": {"hopper": {"env_id": "Hopper-v5"}}, "summary": {}, "cells": []}
    # the continuous grid plans 5 seeds of every cell: 1 of 5 and 3 of 5 are short, 5 is not
    assert short_points(results) == {("hopper", "bc", 1): (1, 5), ("hopper", "gail", 1): (3, 5)}
    # a grid outside every plan (a user's own, a probe) is never short
    assert short_points({**results, "progress": {"families": []}}) == {}
    assert [p.name for p in plots(results, tmp_path)] == ["sample_efficiency.png"]
