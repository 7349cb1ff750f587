"""``--set``: a config probe (an ablation, a sweep point) that never passes for the protocol."""

import json

import pytest

from imitation_datasets.benchmark.cells import Cell
from imitation_datasets.benchmark.report import RESULTS_MD
from imitation_datasets.benchmark.runner import StaleCellError, run_benchmark
from imitation_datasets.benchmark.targets import probe_records
from imitation_datasets.cli import main
from imitation_datasets.core.config import to_mapping
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods import load_config


def test_a_config_probe_sets_only_its_fields_and_never_mixes_with_other_configs(
        tmp_path, bench_data_dir, capsys):
    protocol = to_mapping(load_config("bc", "CartPole-v1"))
    args = ["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1", "--demos",
            "2", "--data", str(bench_data_dir), "--workers", "1", "--quiet"]
    probe = tmp_path / "probes" / "lr"
    setting = '{"lr": 0.0003, "epochs": 4}'
    assert main([*args, "--set", setting, "--out", str(probe)]) == 0, capsys.readouterr().err
    cell = json.loads(Cell("bc", "cartpole", 0, 2).path(probe).read_text())
    assert cell["config_overrides"] == {"epochs": 4, "lr": 0.0003}
    assert cell["config"] == {**protocol, "epochs": 4, "lr": 0.0003}  # nothing else changed
    assert cell["log"]["epochs"] == 4
    report = (probe / RESULTS_MD).read_text()
    assert 'A config probe, not the protocol:** cells trained with these config fields set ' \
           'over their method\'s config: `{"epochs": 4, "lr": 0.0003}`' in report
    assert "Targets of the issues" not in report and "Planned grid" not in report
    # a folder holds one config per method and env: the protocol's config may not join it,
    # on the same cell or on another seed or count (which would mix two configs in one row)
    for first_seed, demos in ((0, 2), (1, 2), (0, 5)):
        with pytest.raises(StaleCellError, match=r"another bc config \((epochs: 4, now "
                           rf"{protocol['epochs']}|lr: 0.0003, now {protocol['lr']})\)"):
            run_benchmark(["bc"], ["cartpole"], 1, probe, bench_data_dir, progress=False,
                          demos=[demos], first_seed=first_seed)
    # ...nor another budget, nor another setting; the same setting goes on (spelt any way)
    with pytest.raises(StaleCellError, match="one config per method and env"):
        run_benchmark(["bc"], ["cartpole"], 1, probe, bench_data_dir, progress=False,
                      demos=[5], budget_scale=2.0, overrides={"lr": 0.0003, "epochs": 4})
    (more,) = run_benchmark(["bc"], ["cartpole"], 1, probe, bench_data_dir, progress=False,
                            demos=[2], first_seed=1, overrides={"epochs": 4, "lr": 3e-4})
    assert more["config_overrides"] == cell["config_overrides"] and more["seed"] == 1
    # a config probe is no budget probe: the protocol's report never reads it as one
    assert probe_records(tmp_path) == []


@pytest.mark.parametrize("setting, message", [
    ('{"epochz": 3}', "--set for bc: unknown key 'epochz'; did you mean epochs?"),
    ('{"epochs": "many"}', "--set for bc: 'epochs' must be int"),
    ("[1]", "expected a JSON object of config fields"),
    ("{}", "expected a JSON object of config fields"),
    ("epochs=3", "not JSON"),
])
def test_a_bad_setting_gets_one_line_and_exit_2_before_any_work(tmp_path, bench_data_dir,
                                                                 capsys, setting, message):
    out = tmp_path / "out"
    try:  # a malformed value stops argument parsing, a misfit one the planning
        status = main(["benchmark", "--methods", "bc", "--envs", "cartpole", "--seeds", "1",
                       "--demos", "2", "--data", str(bench_data_dir), "--workers", "1",
                       "--quiet", "--set", setting, "--out", str(out)])
    except SystemExit as exc:
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (out / "cells").exists()


def test_a_setting_a_method_cannot_take_fails_for_every_env_first(tmp_path, bench_data_dir):
    # gail has `absorbing`, bc has not: the whole grid stops before any work
    with pytest.raises(ConfigError, match="--set for bc: unknown key 'absorbing'"):
        run_benchmark(["gail", "bc"], ["cartpole"], 1, tmp_path, bench_data_dir,
                      progress=False, demos=[2], overrides={"absorbing": True})
    assert not (tmp_path / "cells").exists()
