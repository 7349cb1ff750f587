"""A user's own method through the benchmark protocol; bundles compared only when comparable."""

import json
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.benchmark.compare import CompareError, compare, merge
from imitation_datasets.benchmark.method_specs import MethodSpecError, method_spec
from imitation_datasets.benchmark.report import RESULTS_JSON, markdown
from imitation_datasets.benchmark.runner import run_benchmark
from imitation_datasets.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


class MajorityAction:
    """A user's method defined in this test module: always the expert's most common action."""

    name = "majority"

    def __init__(self, observation_space, action_space, seed=0):
        self.action = 0

    def fit(self, task):
        self.action = int(np.bincount(task.expert.actions.reshape(-1)).argmax())

    def predict(self, obs, deterministic=True):
        return np.full(len(np.atleast_2d(obs)), self.action)


class NoPredict:
    def fit(self, task):
        pass


def test_a_users_class_runs_the_same_protocol_as_a_shipped_method(tmp_path, bench_data_dir):
    cells = run_benchmark([MajorityAction, "bc"], ["cartpole"], 1, tmp_path, bench_data_dir,
                          workers=2, progress=False, demos=[5])
    mine, bc = cells
    assert (mine["method"], bc["method"]) == ("majority", "bc")
    assert mine["method_target"] == f"{__name__}:MajorityAction"
    # same test seeds and reference returns: the numbers are directly comparable
    facts = json.loads((tmp_path / "envs" / "cartpole.json").read_text())
    assert len(mine["test_returns"]) == len(bc["test_returns"]) == len(facts["test_seeds"])
    assert mine["performance"] < 0.1 < 0.5 < bc["performance"]  # a constant action fails
    assert mine["config"] == {} and mine["log"] == {}  # no config, no curve: still a cell


def test_module_class_from_the_command_line_appears_in_the_report(
        tmp_path, bench_data_dir, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert main(["benchmark", "--methods", "linear_policy:LinearPolicy", "--envs", "cartpole",
                 "--seeds", "1", "--demos", "5", "--out", str(tmp_path), "--data",
                 str(bench_data_dir), "--workers", "1", "--quiet"]) == 0
    results = json.loads((tmp_path / RESULTS_JSON).read_text())
    assert results["summary"]["cartpole"]["linear"]["performance"]["mean"] >= 0.9
    assert "| CartPole-v1 | LINEAR |" in (tmp_path / "benchmark_results.md").read_text()
    page = (tmp_path / "index.html").read_text()
    assert "<td>LINEAR</td>" in page and "http" not in page.split("<script>")[0].lower()
    # the bundle says what the numbers were made on and with
    env = results["provenance"]["envs"]["cartpole"]
    assert len(env["protocol_hash"]) == 64 and len(env["random_fingerprint"]) == 64
    assert env["dataset_fingerprint"] and env["expert_card_sha256"]
    assert len(env["dataset_content_fingerprint"]) == len(env["random_content_fingerprint"]) == 64
    run = results["runs"][-1]
    assert run["libraries"]["torch"] and run["machine"]["cpus"] >= 1
    # the simulators' versions too: they decide the data (a release may change the bytes)
    assert {"mujoco", "box2d", "gymnasium"} <= set(run["libraries"])
    assert run["cell_environment"]["ATEN_CPU_CAPABILITY"] == "default"

    # the same bundle twice merges (cells shown once); a changed protocol is refused
    merged = tmp_path / "merged"
    compare([tmp_path / RESULTS_JSON, tmp_path / RESULTS_JSON], merged)
    assert len(json.loads((merged / RESULTS_JSON).read_text())["cells"]) == 1
    other = json.loads((tmp_path / RESULTS_JSON).read_text())
    other["envs"]["cartpole"]["test_seeds"] = other["envs"]["cartpole"]["test_seeds"][::-1]
    for cell in other["cells"]:
        cell["method"] = "theirs"
    (tmp_path / "theirs.json").write_text(json.dumps(other))
    with pytest.raises(CompareError, match=r"theirs.json: cartpole: protocol_hash \w+ vs \w+ in"):
        compare([tmp_path / RESULTS_JSON, tmp_path / "theirs.json"], tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    compare([tmp_path / RESULTS_JSON, tmp_path / "theirs.json"], tmp_path / "apart", apart=True)
    apart = json.loads((tmp_path / "apart" / RESULTS_JSON).read_text())
    assert set(apart["summary"]["cartpole"]) == {"linear", "theirs@theirs"}
    assert "shown apart: theirs on cartpole: protocol_hash" in markdown(apart)
    # other data (a different random dataset) is refused too, through the CLI (exit 2)
    other["envs"]["cartpole"]["test_seeds"] = results["envs"]["cartpole"]["test_seeds"]
    for field in ("random_fingerprint", "random_content_fingerprint"):
        changed = {**other["envs"]["cartpole"], field: "0" * 64}
        (tmp_path / "theirs.json").write_text(json.dumps({**other, "envs": {"cartpole": changed}}))
        assert main(["benchmark-compare", str(tmp_path / RESULTS_JSON),
                     str(tmp_path / "theirs.json"), "--out", str(tmp_path / "cli")]) == 2


def test_one_cell_with_two_different_results_is_refused():
    envs = {"a": {"env_id": "A-v0", "protocol": {}, "dataset_fingerprint": "d",
                  "random_fingerprint": "r", "dataset_content_fingerprint": "dc",
                  "random_content_fingerprint": "rc", "expert_card_sha256": "c"}}
    cell = {"env": "a", "method": "bc", "seed": 0, "aer": 1.0, "performance": 1.0,
            "test_returns": [1.0]}
    from imitation_datasets.benchmark.compare import Bundle

    bundles = [Bundle("x", Path("x.json"), {"envs": envs, "cells": [cell]}),
               Bundle("y", Path("y.json"), {"envs": envs, "cells": [{**cell, "aer": 2.0}]})]
    with pytest.raises(CompareError, match="y.json: cell a/bc seed 0 has other numbers"):
        merge(bundles)


def make_local():
    class Local:
        def fit(self, task): ...
        def predict(self, obs, deterministic=True): ...
    return Local


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_xyz:Method", "no_such_module_xyz:Method: cannot import 'no_such_module_xyz'"),
    ("json:NoSuchClass", "json:NoSuchClass: 'json' has no attribute 'NoSuchClass'"),
    ("json:loads", "json:loads: not a class (got function)"),
    ("json:JSONDecoder", "json:JSONDecoder: JSONDecoder has no fit or predict method"),
    (f"{__name__}:NoPredict", "NoPredict has no predict method"),
    (make_local(), "defined inside a function; define it at module level"),
    (":X", ":X: expected package.module:Class"),
])
def test_bad_method_specs_get_one_line_errors(spec, message):
    with pytest.raises(MethodSpecError) as error:
        method_spec(spec)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_shipped_names_and_classes_stay_shipped_and_cannot_be_taken():
    from imitation_datasets.methods import BC

    assert method_spec("BC").name == method_spec(BC).name == "bc"
    assert method_spec(BC).target is None

    class Copy(BC):  # inherits name "bc" but is not the shipped class
        pass

    Copy.__qualname__ = "Copy"
    Copy.name = "bc"
    with pytest.raises(MethodSpecError, match="'bc' is a shipped method's"):
        method_spec(Copy)


def test_the_cli_names_a_bad_module_class_in_one_line(tmp_path, capsys):
    assert main(["benchmark", "--methods", "bc,no_such_module_xyz:M", "--envs", "cartpole",
                 "--out", str(tmp_path), "--data", str(tmp_path / "data"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no_such_module_xyz:M: cannot import" in err
    assert not (tmp_path / "data").exists()  # refused before any work


def test_the_example_method_in_the_docs_is_the_example_file():
    text = (Path(__file__).parent.parent / "docs" / "own_method.md").read_text()
    assert (EXAMPLES / "linear_policy.py").read_text().split('"""', 2)[2].strip() in text
