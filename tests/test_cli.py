import subprocess
import sys

import pytest

from imitation_datasets.cli import main
from imitation_datasets.cli.experts import expert_table


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "imitation_datasets", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_collect_then_info(tmp_path):
    result = run_cli("collect", "cartpole", "--episodes", "6", "--workers", "2", "--seed", "3",
                     "--out", str(tmp_path / "cp"), "--quiet")
    assert result.returncode == 0, result.stderr
    info = run_cli("info", str(tmp_path / "cp"))
    assert info.returncode == 0
    assert "CartPole-v1" in info.stdout and "episodes      6" in info.stdout
    assert "dataset seed 3" in info.stdout and "100.0 %" in info.stdout
    assert "verified against the data files" in info.stdout


@pytest.mark.parametrize("args, message", [
    (["collect", "cartpol"], "unknown expert 'cartpol'; closest: cartpole"),
    (["collect", "NoSuchEnv-v9", "--random"], "unknown environment 'NoSuchEnv-v9'"),
    (["info", "/nonexistent/dataset"], "metadata.json: missing"),
])
def test_user_errors_are_one_line_without_traceback(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [["collect", "cartpole", "--episodes", "0"],
                                  ["collect", "cartpole", "--workers", "-1"],
                                  ["collect", "cartpole", "--seed", "x"]])
def test_bad_numbers_are_rejected_by_the_parser(args):
    result = run_cli(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: argument" in result.stderr


def test_unreachable_threshold_exits_1_with_a_clear_message(tmp_path):
    result = run_cli("collect", "cartpole", "--episodes", "3", "--threshold", "1000",
                     "--max-attempts", "2", "--out", str(tmp_path / "x"), "--quiet")
    assert result.returncode == 1
    assert "did not reach the threshold 1000 in 2 attempts" in result.stderr
    assert "Traceback" not in result.stderr


def test_random_dataset_for_any_gym_id(tmp_path):
    assert main(["collect", "Acrobot-v1", "--random", "--episodes", "2", "--out",
                 str(tmp_path / "r"), "--quiet"]) == 0
    assert (tmp_path / "r" / "metadata.json").exists()


def test_experts_table_lists_measured_returns():
    table = expert_table(markdown=True)
    assert table.splitlines()[0].startswith("| expert | env |")
    assert "| cartpole | CartPole-v1 |" in table


def test_bad_arguments_are_one_line_naming_the_argument(capsys):
    for args, message in [
        (["collect", "cartpole", "--episodes", "0"],
         "il-datasets collect: error: argument --episodes: episodes must be a positive integer"),
        (["collect", "cartpole", "--backend", "slurm"], "argument --backend: "),
        (["benchmark", "--seeds", "0"], "argument --seeds: seeds must be >= 1, got 0"),
        (["benchmark", "--workerz", "2"], "unrecognized arguments: --workerz"),
    ]:
        with pytest.raises(SystemExit) as exited:
            main(args)
        err = capsys.readouterr().err
        assert exited.value.code == 2 and err.count("\n") == 1 and message in err, err


def test_options_come_from_the_typed_dataclasses_with_defaults_in_help():
    from imitation_datasets.benchmark.options import BenchmarkOptions
    from imitation_datasets.cli.app import COMMANDS, build_parser
    from imitation_datasets.collect.options import CollectOptions

    parser = build_parser()
    target, options = COMMANDS["collect"].build(parser.parse_args(["collect", "cartpole"]))
    assert target.env == "cartpole" and options == CollectOptions()
    _, options = COMMANDS["collect"].build(parser.parse_args(
        ["collect", "cartpole", "--no-npz", "--quiet", "--step-timeout", "none", "--address",
         "auto", "--backend", "ray", "--workers", "3"]))
    assert options == CollectOptions(npz=False, progress=False, step_timeout=None,
                                     ray_address="auto", backend="ray", workers=3)
    (bench,) = COMMANDS["benchmark"].build(parser.parse_args(
        ["benchmark", "--methods", "bc, iupe", "--envs", "CartPole-v1", "--jobs", "4"]))
    assert bench == BenchmarkOptions(methods=("bc", "iupe"), envs=("CartPole-v1",), workers=4)
    collect_help = run_cli("collect", "--help").stdout
    assert "(default: 1000)" in collect_help and "--no-npz" in collect_help
    bench_help = " ".join(run_cli("benchmark", "--help").stdout.split())
    assert "(default:bc,bco,abco,iupe,dagger,gail," in bench_help.replace(" ", "")
    assert "(default: 5)" in bench_help
    assert "--workers WORKERS, --jobs WORKERS" in bench_help


def test_the_generator_handles_every_option_type():
    import argparse
    from dataclasses import dataclass, field
    from pathlib import Path
    from typing import Literal

    from imitation_datasets.cli.arguments import OneLineParser, Options

    @dataclass(frozen=True)
    class Toy:
        name: str = field(metadata={"help": "positional"})
        sizes: tuple[int, ...] = (1, 2)
        limit: float | None = 2.5
        mode: Literal["a", "b"] = "a"
        folder: Path = Path("x")
        verbose: bool = False
        colour: bool = True

    parser = OneLineParser(prog="toy")
    spelled = Options(Toy)
    spelled.add_to(parser)
    assert spelled.build(parser.parse_args(["n"]), "toy") == Toy("n")
    args = parser.parse_args(["n", "--sizes", "3,4,5", "--limit", "off", "--mode", "b",
                              "--folder", "y", "--verbose", "--no-colour"])
    assert spelled.build(args, "toy") == Toy("n", (3, 4, 5), None, "b", Path("y"), True, False)
    assert isinstance(parser, argparse.ArgumentParser)
    assert "(default: 1,2)" in parser.format_help()


def test_help_does_not_load_the_collection_or_benchmark_code():
    code = ("import sys; from imitation_datasets.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith(('torch', 'gymnasium', "
            "'imitation_datasets.collect.controller', 'imitation_datasets.benchmark.runner', "
            "'scipy'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result


def test_progress_goes_through_logging_to_stderr_and_quiet_keeps_warnings(capsys):
    import logging

    from imitation_datasets.cli.app import logging_to_stderr

    log = logging.getLogger("imitation_datasets.benchmark.runner")
    with logging_to_stderr(quiet=False):
        log.info("3 of 4 cells to run")
    with logging_to_stderr(quiet=True):
        log.info("hidden")
        log.warning("shown")
    log.warning("after main: not on stderr by the CLI's handler")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[:2] == ["il-datasets: 3 of 4 cells to run",
                                             "il-datasets: shown"]
    assert "hidden" not in captured.err
    assert not any(isinstance(h, logging.StreamHandler)
                   for h in logging.getLogger("imitation_datasets").handlers)
