"""A worker that hangs (an env step or an enjoy call that never returns) stops the run.

It is killed after ``step_timeout`` seconds of silence, the run stops with a one-line message
naming the env and the episodes, what was staged is kept, and the same run resumes, once the env
is fixed, to the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import digests
from hanging_env import ENV_ID, HANG_AFTER, STEP_SECONDS, policy

from imitation_datasets.cli import main
from imitation_datasets.collect.tally import CollectionError
from imitation_datasets.controller import Controller
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import baseline_collate, baseline_enjoy

TIMEOUT = 3.0


def controller(tmp_path):
    return Controller(baseline_enjoy, baseline_collate, episodes=6, workers=1, path=tmp_path,
                      expert=CallablePolicy(policy, ENV_ID, name="toy", identity="toy-v1"),
                      progress=False,
                      envs_per_worker=1, step_timeout=TIMEOUT)


def test_hanging_step_stops_the_run_and_the_fixed_env_resumes_it(tmp_path, monkeypatch):
    reference = digests(controller(tmp_path).start({"game": "reference"}))
    monkeypatch.setenv(HANG_AFTER, "35")  # three 10-step episodes, then step() never returns
    started = time.monotonic()
    with pytest.raises(CollectionError) as stopped:
        controller(tmp_path).start({"game": "hung"})
    assert time.monotonic() - started < TIMEOUT + 20
    message = str(stopped.value)
    assert "\n" not in message
    assert f"no progress for {TIMEOUT:g} s" in message and ENV_ID in message
    assert "episodes 3-4" in message and "3 accepted episodes are kept" in message
    monkeypatch.delenv(HANG_AFTER)
    resumed = controller(tmp_path)
    out = resumed.start({"game": "hung"})
    assert resumed.last_run["accepted"] == 6 and digests(out) == reference


def test_hanging_enjoy_function_names_its_episode(tmp_path):
    def enjoy(expert, path, context):
        if context.index == 2:
            time.sleep(3600)
        return True

    run = Controller(enjoy, lambda path, data: True, episodes=4, workers=1, path=tmp_path,
                     expert=CallablePolicy(policy, ENV_ID, name="toy"), progress=False,
                     step_timeout=TIMEOUT)
    with pytest.raises(CollectionError, match=f"on episode 2 of {ENV_ID}"):
        run.start({"game": "user"})


def test_cli_step_timeout_flag_exits_1_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(HANG_AFTER, "5")
    rc = main(["collect", ENV_ID, "--random", "--episodes", "2", "--envs-per-worker", "1",
               "--out", str(tmp_path / "r"), "--quiet", "--step-timeout", "2"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"no progress for 2 s on episodes 0-1 of {ENV_ID}" in err


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_cli_rejects_a_bad_step_timeout(value, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["collect", "cartpole", "--step-timeout", value])
    assert exited.value.code == 2 and "--step-timeout" in capsys.readouterr().err


def test_step_timeout_must_be_positive():
    with pytest.raises(ValueError, match="step_timeout"):
        Controller(baseline_enjoy, baseline_collate, episodes=1, step_timeout=0)


def test_a_stopped_and_continued_run_is_not_a_hang(tmp_path):
    """Ctrl-Z then ``fg`` stops the controller with its workers: no worker is blamed."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import hanging_env; "
            "from imitation_datasets.cli import main; sys.exit(main(sys.argv[2:]))")
    run = subprocess.Popen(
        [sys.executable, "-c", code, str(Path(__file__).parent), "collect", ENV_ID, "--random",
         "--episodes", "20", "--envs-per-worker", "1", "--out", str(tmp_path / "r"), "--quiet",
         "--step-timeout", "2"],
        env={**os.environ, STEP_SECONDS: "0.02"}, start_new_session=True,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("r/.staging-*/episodes-*.log")):
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()[1]
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGSTOP)
    time.sleep(4)
    os.killpg(run.pid, signal.SIGCONT)
    assert run.wait(timeout=60) == 0, run.communicate()[1]
