"""Collection guards: policy identity, stale temp files, failing envs, wrong actions, bounds."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from conftest import balance, digests
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from imitation_datasets.collect import scheduling
from imitation_datasets.collect.folder import OutFolderError
from imitation_datasets.controller import CollectionError, Controller
from imitation_datasets.core.atomic import atomic_write_bytes
from imitation_datasets.core.rollout import ActionSpaceError
from imitation_datasets.core.seeding import EXPERT_EVAL_SEED_START
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import DatasetCollate, baseline_collate, baseline_enjoy


class FlakyCartPole(CartPoleEnv):
    """CartPole whose reset raises for every seed divisible by 3 (deterministically)."""

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        if seed is not None and seed % 3 == 0:
            raise RuntimeError(f"cannot start from seed {seed}")
        return super().reset(seed=seed, options=options)


class NoEvalCartPole(CartPoleEnv):
    """CartPole that raises on the evaluation seeds (dataset seeds are elsewhere)."""

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        if seed is not None and EXPERT_EVAL_SEED_START <= seed < EXPERT_EVAL_SEED_START + 10**6:
            raise RuntimeError("no evaluation here")
        return super().reset(seed=seed, options=options)


gym.register("FlakyCartPole-v0", entry_point=FlakyCartPole, max_episode_steps=200)
gym.register("NoEvalCartPole-v0", entry_point=NoEvalCartPole, max_episode_steps=200)


def collect(path: Path, policy: Any, name: str = "d", episodes: int = 3, mode: str = "all",
            **kwargs: Any) -> Path:
    controller = Controller(baseline_enjoy, baseline_collate, episodes=episodes, threads=1,
                            path=path, expert=policy, progress=False, **kwargs)
    return controller.start({"game": name, "mode": mode})


def constant(action: int, **kwargs: Any) -> CallablePolicy:
    return CallablePolicy(lambda o: np.full(len(o), action, np.int64), "CartPole-v1", **kwargs)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


# ---------------------------------------------------------------- policy identity
def test_two_lambdas_without_identity_never_pass_for_each_other(tmp_path):
    collect(tmp_path, constant(0))
    with pytest.raises(OutFolderError, match="the policy has no identity"):
        collect(tmp_path, constant(1))
    arrays, _ = read_parquet(collect(tmp_path, constant(1), overwrite=True))
    assert (arrays.actions == 1).all()


def test_identities_tell_policies_apart_and_the_same_identity_is_complete(tmp_path):
    out = collect(tmp_path, constant(0, identity="left-v1"))
    with pytest.raises(OutFolderError, match="already holds another dataset"):
        collect(tmp_path, constant(1, identity="right-v1"))
    before = digests(out)
    controller = Controller(baseline_enjoy, baseline_collate, episodes=3, path=tmp_path,
                            expert=constant(0, identity="left-v1"), progress=False)
    controller.start({"game": "d"})
    assert controller.last_run == {} and digests(out) == before
    assert read_parquet(out)[1]["expert"]["identity"] == "left-v1"
    with pytest.raises(ValueError, match="identity must be a non-empty string"):
        constant(0, identity="")


class Pusher:
    """A user policy object: its repr holds a memory address."""

    env_id, name, threshold = "CartPole-v1", "CartPole-v1", 0.0

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        return balance(obs)


class VersionedPusher(Pusher):
    def fingerprint(self) -> str:
        return "pusher-v1"


def test_a_policy_object_without_identity_never_resumes_and_its_staging_is_kept(tmp_path,
                                                                               caplog):
    collect(tmp_path, Pusher(), mode="play")  # an interrupted run
    (unverified,) = tmp_path.glob("d/.staging-unverified-*")
    with pytest.raises(CollectionError, match="not staged.*the policy has no identity"):
        collect(tmp_path, Pusher(), mode="collate")  # a new object may be another policy
    out = collect(tmp_path, Pusher())
    err = caplog.text
    assert f"keeping {unverified}" in err and "no run resumes them" in err
    assert list(out.glob(".staging-*")) == [unverified]
    assert (out / "metadata.json").exists()


def test_a_policy_object_with_a_fingerprint_resumes(tmp_path):
    collect(tmp_path, VersionedPusher(), mode="play")
    out = collect(tmp_path, VersionedPusher(), mode="collate")
    assert list(out.glob(".staging-*")) == []
    assert read_parquet(out)[0].n_episodes == 3


# ---------------------------------------------------------------- temporary files
def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    pid = dead_pid()
    policy = constant(0, identity="left-v1")
    collect(tmp_path, policy, mode="play")
    (staging,) = (tmp_path / "d").glob(".staging-*")
    stale = [tmp_path / "d" / f".teacher.npz.{pid}.tmp",
             tmp_path / "d" / f".steps.parquet.{pid}.tmp",
             staging / f".episode_0000001.ep.{pid}.tmp"]
    for path in stale:
        path.write_bytes(b"\0" * 1000)
    collect(tmp_path, policy)
    assert not any(path.exists() for path in stale)
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "README.md", "episodes.parquet", "metadata.json", "steps.parquet", "teacher.npz"]


def test_a_full_disk_while_collating_leaves_nothing_behind_and_the_rerun_finishes(
        tmp_path, monkeypatch):
    policy = constant(0, identity="left-v1")
    collect(tmp_path, policy, mode="play")

    def full_disk(self, out_dir, episodes, metadata_fn):
        (Path(out_dir) / f".teacher.npz.{pid}.tmp").write_bytes(b"\0" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir / "teacher.npz"))

    pid = dead_pid()
    monkeypatch.setattr(DatasetCollate, "write", full_disk)
    with pytest.raises(OutFolderError, match="No space left on device.*staged episodes are kept"):
        collect(tmp_path, policy)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".d.lock", "d"]
    assert [p.name for p in (tmp_path / "d").iterdir()][0].startswith(".staging-")
    monkeypatch.undo()
    controller = Controller(baseline_enjoy, baseline_collate, episodes=3, path=tmp_path,
                            expert=policy, progress=False)
    controller.start({"game": "d"})
    assert controller.last_run == {}  # resumed from the staged episodes
    assert (tmp_path / "d" / "teacher.npz").exists()


def test_atomic_writes_remove_their_temporary_file_on_failure(tmp_path, monkeypatch):
    def no_rename(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.replace", no_rename)
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "x.ep", b"data")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- failing envs
def test_an_env_failing_for_some_seeds_still_gives_a_dataset_and_a_reference(tmp_path):
    policy = CallablePolicy(balance, "FlakyCartPole-v0", identity="balance-v1")
    _, meta = read_parquet(collect(tmp_path, policy, episodes=6, max_attempts=20))
    reference = meta["reference"]
    skipped = [s for s in range(EXPERT_EVAL_SEED_START, EXPERT_EVAL_SEED_START + 200)
               if s % 3 == 0]
    used = [s for s in range(EXPERT_EVAL_SEED_START, EXPERT_EVAL_SEED_START + 200)
            if s % 3][:100]
    assert isinstance(reference["random_return_mean"], float)
    assert reference["random_return_source"].startswith(
        f"random policy on seeds {used[0]}..{used[-1]}, skipping "
        f"{len([s for s in skipped if s < used[-1]])} seeds whose episode raised ({skipped[0]}, ")
    assert meta["episodes"]["seed"] and all(s % 3 for s in meta["episodes"]["seed"])


def test_a_reference_that_cannot_be_measured_is_recorded_as_unavailable(tmp_path):
    policy = CallablePolicy(balance, "NoEvalCartPole-v0", identity="balance-v1")
    _, meta = read_parquet(collect(tmp_path, policy))
    assert meta["reference"]["random_return_mean"] is None
    assert meta["reference"]["random_return_source"].startswith("unavailable: ")
    assert "no evaluation here" in meta["reference"]["random_return_source"]


# ---------------------------------------------------------------- wrong actions
def test_actions_of_the_wrong_shape_are_refused_before_any_work(tmp_path):
    wide = CallablePolicy(lambda o: np.zeros((len(o), 3), np.float32), "Pendulum-v1",
                          name="wide", identity="wide-v1")
    with pytest.raises(ActionSpaceError, match=r"policy 'wide' returned actions of shape "
                                               r"\(2, 3\).*expects shape \(2, 1\)"):
        collect(tmp_path, wide)
    assert not (tmp_path / "d" / "metadata.json").exists()
    floats = CallablePolicy(lambda o: np.zeros(len(o)), "CartPole-v1", name="floats")
    with pytest.raises(ValueError, match="integer values"):
        collect(tmp_path, floats, name="f")


# ---------------------------------------------------------------- bounds
def test_episode_count_is_bounded():
    with pytest.raises(ValueError, match="episodes must be at most 10,000,000"):
        Controller(baseline_enjoy, baseline_collate, episodes=10**12)


def test_workers_are_capped_at_the_episodes_and_the_cpus(tmp_path, monkeypatch, caplog):
    policy = constant(0)
    controller = Controller(baseline_enjoy, baseline_collate, episodes=2, threads=48,
                            path=tmp_path, expert=policy, progress=False)
    controller.start({"game": "a"})
    assert controller.last_run["workers"] == 2
    monkeypatch.setattr(scheduling, "cpu_count", lambda: 1)
    controller = Controller(baseline_enjoy, baseline_collate, episodes=6, threads=6,
                            path=tmp_path, expert=policy, progress=False)
    controller.start({"game": "b"})
    assert controller.last_run["workers"] == 4
    err = caplog.text
    assert "6 workers asked for, but only 1 CPU(s) are available here; using 4" in err
