"""A stopped training run resumes from its saved state and ends with the same bytes."""

from __future__ import annotations

import logging
import os
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from method_tasks import VALIDATION, expert_data, make_task

from imitation_datasets.benchmark.cells import Cell, ResultsFolderError
from imitation_datasets.benchmark.runner import run_benchmark
from imitation_datasets.core.config import with_overrides
from imitation_datasets.core.rollout import make_env
from imitation_datasets.experts.registry import Experts
from imitation_datasets.methods import Method, TrainingTask, get_method, load_config
from imitation_datasets.methods import resume as resume_module
from imitation_datasets.methods.iq_learn import IQLearnConfig, IQLearnOnline
from imitation_datasets.methods.training_state import (
    TrainingStateError,
    read_training_state,
    write_training_state,
)

pytestmark = pytest.mark.usefixtures("one_thread")

NAMES = ("sqil", "iq_learn_offline", "iq_learn_online", "gail", "gaifo", "airl")
# 4 epochs of 150 steps (adversarial: 4 iterations of 2 envs x 150 steps); soft-Q learns from
# step 100, so a stop after epoch 2 is mid-learning and, online, mid-episode (Pendulum's
# episodes are 200 steps; CartPole's vary).
SOFT_Q = {"steps": 600, "steps_per_epoch": 150, "learning_starts": 100, "batch_size": 32,
          "eval_episodes": 2}
ADVERSARIAL = {"total_steps": 1200, "n_envs": 2, "n_steps": 150, "ppo_epochs": 2,
               "eval_every": 1, "eval_episodes": 2, "normalise_rewards": True}


class Stop(Exception):
    """Stands for the process being killed."""


def task_of(key: str, episodes: int) -> TrainingTask:
    env_id = Experts.get_expert(key).env_id
    return make_task(env_id, expert_data(key, episodes), VALIDATION[:2], interaction_seed=11)


@pytest.fixture(scope="module")
def tasks() -> dict[str, TrainingTask]:
    return {"cartpole": task_of("cartpole", 3), "pendulum": task_of("pendulum", 2)}


def make(name: str, task: TrainingTask, seed: int = 0, **overrides: object) -> Method:
    env = make_env(task.env_id)
    budget = SOFT_Q if get_method(name).__name__.startswith(("SQIL", "IQ")) else ADVERSARIAL
    config = with_overrides(load_config(name, task.env_id), {**budget, **overrides}, "test")
    method = get_method(name)(env.observation_space, env.action_space, config, seed=seed)
    env.close()
    method.save_every_seconds = 0.0  # type: ignore[misc]  # save after every epoch
    return method


def stopping_after(method: Method, epoch: int) -> Method:
    """``method`` whose process 'dies' right after epoch ``epoch`` ended (and was saved)."""
    end_epoch = method.end_epoch

    def end_then_stop(*args: object, **kwargs: object) -> bool:
        done = end_epoch(*args, **kwargs)  # type: ignore[arg-type]
        if method.epoch == epoch:
            raise Stop
        return done

    method.end_epoch = end_then_stop  # type: ignore[method-assign]
    return method


def outcome(method: Method, task: TrainingTask) -> tuple:
    """Everything a cell's result is made of, wall times left out."""
    log = method.log
    assert log is not None
    weights = {f"{n}.{k}": v.clone() for n, net in method.networks.items()
               for k, v in net.state_dict().items()}
    curve = [(r.epoch, r.validation_returns, r.train_loss, r.env_steps, r.info)
             for r in log.records]
    return (weights, method.predict(task.expert.obs[:64]), curve, log.best_epoch,
            log.env_steps, log.epochs)


def assert_same(a: tuple, b: tuple) -> None:
    (w1, *rest1), (w2, *rest2) = a, b
    assert sorted(w1) == sorted(w2) and all(torch.equal(w1[k], w2[k]) for k in w1)
    assert np.array_equal(rest1[0], rest2[0])
    assert rest1[1:] == rest2[1:]


@pytest.mark.parametrize("env", ["cartpole", "pendulum"])
@pytest.mark.parametrize("name", NAMES)
def test_stopped_run_resumes_to_the_same_bytes(name: str, env: str, tasks, tmp_path) -> None:
    task = tasks[env]
    straight = make(name, task)
    straight.fit(task)
    path = tmp_path / "state.safetensors"
    with pytest.raises(Stop):
        stopping_after(make(name, task), 2).fit(task, resume=path)
    assert path.is_file()
    resumed = make(name, task)
    resumed.fit(task, resume=path)
    assert_same(outcome(resumed, task), outcome(straight, task))
    assert resumed.resumed is not None and resumed.resumed["times"] == 1
    assert straight.resumed is None and len(resumed.log.records) == 4


@pytest.mark.parametrize("name", ["gail", "airl", "sqil", "iq_learn_online"])
def test_running_normalisation_resumes_to_the_same_bytes(name: str, tasks, tmp_path) -> None:
    """``obs_normaliser: running``: the pooled state moments are part of the saved state."""
    task = tasks["pendulum"]
    straight = make(name, task, obs_normaliser="running")
    straight.fit(task)
    path = tmp_path / "state.safetensors"
    with pytest.raises(Stop):
        stopping_after(make(name, task, obs_normaliser="running"), 2).fit(task, resume=path)
    resumed = make(name, task, obs_normaliser="running")
    resumed.fit(task, resume=path)
    assert_same(outcome(resumed, task), outcome(straight, task))
    if name in ("gail", "airl"):  # D normalises as the critic does (the last iteration's)
        ppo, disc, _ = straight._parts
        assert torch.equal(disc.get_submodule("normaliser").std, ppo.critic.normaliser.std)
    expert_only = make(name, task)
    expert_only.fit(task)
    assert not torch.equal(expert_only.policy.normaliser.std, straight.policy.normaliser.std)


@pytest.mark.parametrize("key", ["hopper", "lunarlandercontinuous"])
@pytest.mark.parametrize("name", ["iq_learn_online", "gail"])
def test_mujoco_and_box2d_runs_resume_mid_episode_to_the_same_bytes(name: str, key: str,
                                                                    tmp_path) -> None:
    """MuJoCo resets completely (one env per run); Box2D is re-made for every episode."""
    task = task_of(key, 1)
    straight = make(name, task)
    straight.fit(task)
    path = tmp_path / "state.safetensors"
    with pytest.raises(Stop):
        stopping_after(make(name, task), 2).fit(task, resume=path)
    episodes = read_training_state(path)["run"]
    tapes = [episodes["env"]["episode"]] if "env" in episodes else episodes["ppo"]["envs"]
    assert any(t is not None and t["actions"] is not None for t in tapes)  # mid-episode
    resumed = make(name, task)
    resumed.fit(task, resume=path)
    assert_same(outcome(resumed, task), outcome(straight, task))


def test_stopped_twice_and_a_finished_state_is_harmless(tasks, tmp_path) -> None:
    task = tasks["pendulum"]
    straight = make("iq_learn_online", task)
    straight.fit(task)
    path = tmp_path / "state.safetensors"
    for epoch in (1, 3):
        with pytest.raises(Stop):
            stopping_after(make("iq_learn_online", task), epoch).fit(task, resume=path)
    resumed = make("iq_learn_online", task)
    resumed.fit(task, resume=path)
    assert_same(outcome(resumed, task), outcome(straight, task))
    assert resumed.resumed is not None and resumed.resumed["times"] == 2
    # the state a finished run leaves behind only re-selects the same weights
    again = make("iq_learn_online", task)
    again.fit(task, resume=path)
    assert_same(outcome(again, task), outcome(straight, task))


def saved_state(task: TrainingTask, tmp_path, name: str = "iq_learn_online") -> tuple:
    path = tmp_path / "state.safetensors"
    with pytest.raises(Stop):
        stopping_after(make(name, task), 2).fit(task, resume=path)
    return path, read_training_state(path)


def one_line_refusal(name: str, task: TrainingTask, path, match: str, **kw: object) -> None:
    with pytest.raises(TrainingStateError, match=match) as info:
        make(name, task, **kw).fit(task, resume=path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_state_of_another_run_is_refused(tasks, tmp_path) -> None:
    task = tasks["pendulum"]
    path, _ = saved_state(task, tmp_path)
    one_line_refusal("iq_learn_online", task, path, "another run", seed=1)
    one_line_refusal("iq_learn_online", task, path, "another run", steps=750)
    one_line_refusal("sqil", task, path, "another run")
    other = task_of("pendulum", 1)
    one_line_refusal("iq_learn_online", other, path, "another run")


def test_tampered_states_are_refused_in_one_line(tasks, tmp_path) -> None:
    task = tasks["pendulum"]
    path, state = saved_state(task, tmp_path)

    def tampered(change) -> None:
        copy = read_training_state(path)
        change(copy)
        write_training_state(path, copy)

    original = path.read_bytes()
    cases = [
        (lambda s: s["run"]["env"]["episode"].__setitem__(
            "obs", s["run"]["env"]["episode"]["obs"] + 1), "re-playing"),
        (lambda s: s["run"]["env"]["episode"].__setitem__(
            "actions", s["run"]["env"]["episode"]["actions"][:-1]), "re-playing"),
        (lambda s: s["run"]["samp"].__setitem__("obs", s["run"]["samp"]["obs"][:, :2]),
         "'obs'"),
        (lambda s: s["run"]["samp"].__setitem__("size", 10 ** 9), "capacity"),
        (lambda s: s["run"].__setitem__("step", -1), "outside the budget"),
        (lambda s: s["networks"]["policy"].pop("normaliser.mean"), "'policy' does not fit"),
        (lambda s: s["run"]["learner"]["optimizers"]["q"]["state"][0].__setitem__(
            "exp_avg", torch.zeros(3)), "does not fit its shape"),
        (lambda s: s.__setitem__("generator", torch.zeros(3, dtype=torch.uint8)), "generator"),
        (lambda s: s["selection"].__setitem__("log", "x"), "'log'"),
    ]
    for change, match in cases:
        path.write_bytes(original)
        tampered(change)
        one_line_refusal("iq_learn_online", task, path, match)
    for garbage in (b"", b"\x00" * 64, original[:100]):
        path.write_bytes(garbage)
        one_line_refusal("iq_learn_online", task, path, "cannot read")
    assert state["identity"]["method"] == "iq_learn_online"


def test_only_resumable_methods_take_a_state_file(tasks, tmp_path) -> None:
    task = tasks["cartpole"]
    env = make_env(task.env_id)
    bc = get_method("bc")(env.observation_space, env.action_space, {"epochs": 1})
    with pytest.raises(TypeError, match="cannot resume"):
        bc.fit(task, resume=tmp_path / "state.safetensors")
    assert get_method("gail").resumable and not get_method("dagger").resumable


# ------------------------------------------------------------------------- in the benchmark
@dataclass(frozen=True)
class TinyIQConfig(IQLearnConfig):
    """Online IQ-Learn at test scale: 3 epochs of 300 steps."""

    steps: int = 900
    steps_per_epoch: int = 300
    learning_starts: int = 100
    batch_size: int = 32
    eval_episodes: int = 2


class TinyIQ(IQLearnOnline):
    """Online IQ-Learn at test scale that saves after every epoch and can 'die' after one."""

    name = "tiny_iq"
    config_class = TinyIQConfig
    save_every_seconds = 0.0

    def end_epoch(self, *args, **kwargs) -> bool:
        done = super().end_epoch(*args, **kwargs)
        if os.environ.get("TINY_IQ_DIES_AFTER") == str(self.epoch):
            os._exit(3)  # the worker is killed: nothing after the save runs
        return done


NUMBERS = ("test_returns", "aer", "performance", "env_steps", "config")


def curve(cell: dict) -> list:
    return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in cell["log"]["records"]]


def test_a_killed_cell_resumes_in_the_next_run(tmp_path, bench_data_dir, monkeypatch,
                                               caplog) -> None:
    def run(out):
        return run_benchmark([TinyIQ], ["cartpole"], 1, tmp_path / out, bench_data_dir,
                             workers=1, progress=False, demos=[2])

    (straight,) = run("straight")
    assert "resumed" not in straight
    cell = Cell("tiny_iq", "cartpole", 0, 2, f"{__name__}:TinyIQ")
    state = cell.state_path(tmp_path / "killed")
    monkeypatch.setenv("TINY_IQ_DIES_AFTER", "2")
    with pytest.raises(BrokenProcessPool):
        run("killed")
    assert state.is_file() and not cell.path(tmp_path / "killed").exists()
    partial = state.with_name(f".{state.name}.12345.tmp")  # a save that was killed midway
    partial.write_bytes(b"half a state")
    monkeypatch.delenv("TINY_IQ_DIES_AFTER")
    caplog.set_level(logging.INFO, logger="imitation_datasets.benchmark.runner")
    (resumed,) = run("killed")
    assert "demos2/seed0.json done (1 of 1)" in caplog.text
    assert ", resumed 1 time(s)" in caplog.text
    assert {k: resumed[k] for k in NUMBERS} == {k: straight[k] for k in NUMBERS}
    assert curve(resumed) == curve(straight) and resumed["resumed"] == 1
    assert not state.exists() and not partial.exists()  # removed once the result was written
    assert resumed["train_seconds"] > resumed["log"]["records"][1]["wall_seconds"]

    # a state the cell cannot use (here: garbage) is dropped and the cell starts afresh
    broken = cell.state_path(tmp_path / "broken")
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a training state")
    (afresh,) = run("broken")
    assert {k: afresh[k] for k in NUMBERS} == {k: straight[k] for k in NUMBERS}
    assert "resumed" not in afresh and not broken.exists()

    # a finished cell's state left behind (killed between its result and the clean-up) goes
    broken.write_bytes(b"a stale state")
    (cell_again,) = run("broken")
    assert cell_again == afresh and not broken.exists()


@pytest.mark.parametrize("link", ["cells", ".resume", "cells/cartpole"])
def test_results_sub_folders_that_lead_elsewhere_are_refused(tmp_path, bench_data_dir,
                                                             link) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / link).parent.mkdir(parents=True, exist_ok=True)
    (out / link).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ResultsFolderError, match="leads outside") as info:
        run_benchmark(["bc"], ["cartpole"], 1, out, bench_data_dir, workers=1,
                      progress=False, demos=[2])
    assert "\n" not in str(info.value)
    assert list(elsewhere.iterdir()) == []


def test_tampered_adversarial_states_are_refused_in_one_line(tasks, tmp_path) -> None:
    task = tasks["pendulum"]
    path, _ = saved_state(task, tmp_path, "gail")
    original = path.read_bytes()

    def envs(s):
        return s["run"]["ppo"]["envs"]

    cases = [
        (lambda s: envs(s)[1].__setitem__("obs", envs(s)[1]["obs"] * 2), "re-playing"),
        (lambda s: envs(s)[0].__setitem__("length", 7), "does not fit its actions"),
        (lambda s: envs(s).pop(), "1 environments saved"),
        (lambda s: s["run"]["ppo"]["return_scale"].__setitem__("count", "x"), "'count'"),
        (lambda s: s["run"].__setitem__("iteration", 99), "outside the budget"),
        (lambda s: s["run"]["disc"].pop("body.0.weight"), "'discriminator' does not fit"),
    ]
    for change, match in cases:
        path.write_bytes(original)
        state = read_training_state(path)
        change(state)
        write_training_state(path, state)
        one_line_refusal("gail", task, path, match)


def test_a_state_saved_by_other_code_is_refused(tasks, tmp_path, monkeypatch) -> None:
    task = tasks["cartpole"]
    path, _ = saved_state(task, tmp_path, "sqil")
    monkeypatch.setattr(resume_module, "code_digest", lambda: "0" * 64)
    one_line_refusal("sqil", task, path, "another run")


def test_the_code_digest_covers_the_modules_a_run_executes(tmp_path) -> None:
    files = {p.as_posix() for p in resume_module.code_files()}
    # the methods, and the shared modules a run steps through (a change there changes numbers)
    assert {"methods/gail.py", "methods/resume.py", "core/rollout.py", "core/evaluation.py",
            "core/seeding.py", "core/__init__.py", "data/arrays.py"} <= files
    assert not any(f.startswith(("cli/", "benchmark/")) for f in files)  # the runner is not
    source = tmp_path / "m.py"
    source.write_text("import os\nimport imitation_datasets.core.names\n"
                      "from imitation_datasets.core import rollout\n"
                      "def f():\n    from imitation_datasets.data.npz import load\n")
    assert resume_module._package_imports(source) == [
        "imitation_datasets.core.names", "imitation_datasets.core",
        "imitation_datasets.core.rollout", "imitation_datasets.data.npz",
        "imitation_datasets.data.npz.load"]
