import subprocess
import sys

import pytest

from imitation_datasets.cli import expert_table, main


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
