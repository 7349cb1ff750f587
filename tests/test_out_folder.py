"""The output folder: one writer, written whole, another dataset never replaced or mixed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import balance, digests

from imitation_datasets.cli import main
from imitation_datasets.collect.folder import DatasetFolder, FolderBusyError, OutFolderError
from imitation_datasets.controller import Controller
from imitation_datasets.data.npz import import_npz
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import DatasetCollate, baseline_collate, baseline_enjoy

SCRIPTS = Path(__file__).parent / "scripts"


def policy() -> CallablePolicy:
    return CallablePolicy(balance, "CartPole-v1", name="balance", identity="balance-v1")


def collect(path: Path, name: str = "d", episodes: int = 4, mode: str = "all",
            collate: DatasetCollate = baseline_collate, **kwargs) -> Path:
    controller = Controller(baseline_enjoy, collate, episodes=episodes, threads=1, path=path,
                            expert=policy(), progress=False, **kwargs)
    return controller.start({"game": name, "mode": mode})


def stagings(folder: Path) -> list[Path]:
    return sorted(folder.glob(".staging-*"))


def assert_consistent(folder: Path) -> None:
    """teacher.npz (the original layout) holds the Parquet dataset beside it."""
    arrays, meta = read_parquet(folder)
    npz = import_npz(folder / "teacher.npz")
    assert np.array_equal(npz.obs, arrays.obs) and np.array_equal(npz.actions, arrays.actions)
    assert np.array_equal(npz.rewards, arrays.rewards)
    assert np.array_equal(npz.lengths, arrays.lengths)
    assert meta["episodes"]["seed"] == arrays.seeds.tolist()


# ---------------------------------------------------------------- one writer
def test_a_second_writer_is_refused_naming_the_folder_and_pid_and_the_first_completes(tmp_path):
    out = tmp_path / "slow"
    first = subprocess.Popen([sys.executable, str(SCRIPTS / "slow_collect.py"), str(out), "8",
                              "1", "0.002"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not stagings(out):
        assert first.poll() is None, first.stderr.read().decode()
        assert time.monotonic() < deadline, "the first run never started staging"
        time.sleep(0.02)
    with pytest.raises(FolderBusyError, match=rf"{out}: another collection is writing this "
                                              rf"folder \(pid {first.pid}\)"):
        collect(tmp_path, "slow", seed=8)
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    assert_consistent(out)
    assert read_parquet(out)[1]["collection"]["dataset_seed"] == 0  # the first run's data only


def test_one_process_cannot_hold_a_folder_twice(tmp_path):
    folder = DatasetFolder(tmp_path / "d")
    with folder.lock(), pytest.raises(FolderBusyError, match="this process"), folder.lock():
        pass
    with folder.lock():  # released
        pass


@pytest.mark.parametrize("kind", ["symlink", "folder", "fifo"])
def test_a_lock_file_name_taken_by_a_link_folder_or_fifo_is_refused_not_followed(tmp_path, kind):
    """A hostile folder cannot make the lock truncate the file a link points to, nor hang it."""
    from imitation_datasets.core.writer_lock import LockFileError

    folder = DatasetFolder(tmp_path / "d")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    {"symlink": lambda p: p.symlink_to(victim), "folder": lambda p: p.mkdir(),
     "fifo": lambda p: os.mkfifo(p)}[kind](folder.lock_path)
    with pytest.raises(LockFileError, match=rf"{folder.lock_path}: .*plain file") as info, \
            folder.lock():
        pass
    assert "\n" not in str(info.value)
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("side", ["build_path", "old_path"])
def test_a_link_beside_the_folder_is_refused_not_followed(tmp_path, side, capsys):
    """A link named like our staging names (``.<name>.new``/``.old``) is never deleted through."""
    out = tmp_path / "d"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep me")
    getattr(DatasetFolder(out), side).symlink_to(victim)
    assert main(["collect", "cartpole", "--episodes", "2", "--workers", "1", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a link or not a folder" in err
    assert (victim / "keep.txt").read_text() == "keep me" and not out.exists()


def test_a_link_inside_the_folder_counts_as_a_foreign_file(tmp_path, capsys):
    """Even named like a staging folder, a link is not ours: refused, nothing done through it."""
    out = collect(tmp_path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / ".x.99999999.tmp").write_text("keep me")  # named like a stale temp file
    (out / ".staging-0123456789abcdef").symlink_to(victim)
    assert main(["collect", "cartpole", "--episodes", "2", "--workers", "1", "--seed", "1",
                 "--out", str(out), "--overwrite", "--quiet"]) == 2
    assert "did not write ('.staging-0123456789abcdef')" in capsys.readouterr().err
    assert (victim / ".x.99999999.tmp").read_text() == "keep me"


def test_a_complete_dataset_needs_no_lock_to_be_found_complete(tmp_path):
    """Parallel benchmark cells all find their prepared dataset complete, without contention."""
    out = collect(tmp_path)
    before = digests(out)
    with DatasetFolder(out).lock():
        assert collect(tmp_path) == out
        with pytest.raises(FolderBusyError):
            collect(tmp_path, seed=1)
    assert digests(out) == before


# ---------------------------------------------------------------- another dataset in --out
def test_other_arguments_are_refused_unless_overwrite_which_replaces_the_folder_whole(tmp_path):
    out = collect(tmp_path, seed=0)
    before = digests(out)
    with pytest.raises(OutFolderError, match=r"already holds another dataset \(expert balance, "
                                             r"seed 0, 4 episodes\); pass --overwrite"):
        collect(tmp_path, seed=1)
    assert digests(out) == before
    collect(tmp_path, seed=1, overwrite=True)
    assert digests(out) == digests(collect(tmp_path, "fresh", seed=1))
    assert sorted(p.name for p in out.iterdir()) == sorted(before)  # nothing else left
    assert not list(tmp_path.glob(".d.new")) and not list(tmp_path.glob(".d.old"))


def test_no_npz_over_another_dataset_leaves_no_stale_teacher_npz(tmp_path):
    out = collect(tmp_path, seed=0)
    no_npz = DatasetCollate("baseline_collate", npz=False)
    with pytest.raises(OutFolderError, match="--overwrite"):
        collect(tmp_path, seed=1, collate=no_npz)
    assert_consistent(out)
    collect(tmp_path, seed=1, collate=no_npz, overwrite=True)
    assert not (out / "teacher.npz").exists()
    assert read_parquet(out)[1]["collection"]["dataset_seed"] == 1
    # the same arguments with npz again: the dataset is rebuilt with its teacher.npz
    collect(tmp_path, seed=1)
    assert_consistent(out)


def test_the_same_dataset_is_already_complete(tmp_path, caplog):
    out = collect(tmp_path)
    before = digests(out)
    controller = Controller(baseline_enjoy, baseline_collate, episodes=4, path=tmp_path,
                            expert=policy(), progress=True)
    with caplog.at_level(logging.INFO, logger="imitation_datasets.collect"):
        controller.start({"game": "d"})
    assert "already complete" in caplog.text
    assert controller.last_run == {} and digests(out) == before


def test_an_unreadable_dataset_is_replaced_only_with_overwrite(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "metadata.json").write_text("{not json")
    with pytest.raises(OutFolderError, match="holds a dataset that cannot be read"):
        collect(tmp_path)
    assert (tmp_path / "d" / "metadata.json").read_text() == "{not json"
    assert_consistent(collect(tmp_path, overwrite=True))


def test_files_il_datasets_did_not_write_are_never_replaced(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(OutFolderError, match="holds files il-datasets did not write "
                                             r"\('notes.txt'\)"):
        collect(tmp_path, overwrite=True)
    assert (tmp_path / "d" / "notes.txt").read_text() == "mine"
    (tmp_path / "f").write_text("a file")
    with pytest.raises(OutFolderError, match="is not a folder"):
        collect(tmp_path, "f")


def test_cli_refuses_another_dataset_without_overwrite(tmp_path, capsys):
    out = tmp_path / "cp"
    args = ["collect", "cartpole", "--episodes", "2", "--out", str(out), "--quiet"]
    assert main([*args, "--seed", "0"]) == 0
    assert main([*args, "--seed", "1", "--no-npz"]) == 2
    err = capsys.readouterr().err
    assert "il-datasets: error:" in err and "--overwrite" in err and len(err.splitlines()) == 1
    assert_consistent(out)
    assert main([*args, "--seed", "1", "--no-npz", "--overwrite"]) == 0
    assert not (out / "teacher.npz").exists()
    with pytest.raises(SystemExit) as exited:  # refused while parsing the arguments
        main([*args, "--episodes", str(10**12)])
    assert exited.value.code == 2 and "at most 10,000,000" in capsys.readouterr().err


# ---------------------------------------------------------------- staging of other runs
def test_an_interrupted_runs_staging_survives_a_run_with_other_arguments(tmp_path, caplog):
    collect(tmp_path, seed=0, mode="play")  # staged, never collated: an interrupted run
    (kept,) = stagings(tmp_path / "d")
    staged = sorted(p.name for p in kept.iterdir())
    collect(tmp_path, seed=1)
    assert f"keeping {kept}" in caplog.text
    assert stagings(tmp_path / "d") == [kept] and sorted(p.name for p in kept.iterdir()) == staged
    # the interrupted run resumes from its staging (no episode is played again)
    controller = Controller(baseline_enjoy, baseline_collate, episodes=4, threads=1,
                            path=tmp_path, expert=policy(), progress=False, seed=0,
                            overwrite=True)
    out = controller.start({"game": "d"})
    assert controller.last_run == {}  # nothing played
    assert digests(out) == digests(collect(tmp_path, "fresh", seed=0))
    assert stagings(out) == []


# ---------------------------------------------------------------- crash recovery
def _fake_dataset(folder: Path, tag: str) -> None:
    folder.mkdir(parents=True)
    for name in ("steps.parquet", "episodes.parquet", "teacher.npz"):
        (folder / name).write_text(tag)
    (folder / "metadata.json").write_text(
        '{"collection": {"fingerprint": "%s"}}' % (tag * 16))


def test_a_crash_between_the_two_renames_restores_the_previous_dataset(tmp_path):
    folder = DatasetFolder(tmp_path / "d")
    _fake_dataset(folder.old_path, "a")
    (folder.old_path / ".staging-other").mkdir()
    _fake_dataset(folder.build_path, "b")
    with folder.lock():
        folder.recover()
    assert (folder.path / "steps.parquet").read_text() == "a"
    assert (folder.path / ".staging-other").is_dir()
    assert not folder.old_path.exists() and not folder.build_path.exists()


def test_a_crash_after_the_swap_is_finished_keeping_other_runs_staging(tmp_path):
    folder = DatasetFolder(tmp_path / "d")
    _fake_dataset(folder.old_path, "a")
    (folder.old_path / ".staging-other").mkdir()
    (folder.old_path / ".staging-other" / "run.json").write_text("{}")
    (folder.old_path / f".staging-{'b' * 16}").mkdir()  # the new dataset's own staging
    _fake_dataset(folder.path, "b")
    with folder.lock():
        folder.recover()
    assert (folder.path / "steps.parquet").read_text() == "b"
    assert (folder.path / ".staging-other" / "run.json").exists()
    assert not (folder.path / f".staging-{'b' * 16}").exists()
    assert not folder.old_path.exists()


def test_a_run_killed_between_the_renames_is_repaired_by_the_next_run(tmp_path, monkeypatch):
    out = collect(tmp_path, seed=0)
    real, renames = os.rename, []

    def killed_at_the_second(src, dst):
        renames.append(src)
        if len(renames) == 2:
            raise KeyboardInterrupt  # the old dataset is aside, the new one not yet in place
        real(src, dst)

    monkeypatch.setattr(os, "rename", killed_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        collect(tmp_path, seed=1, overwrite=True)
    monkeypatch.undo()
    assert not out.exists() and (tmp_path / ".d.old").is_dir() and (tmp_path / ".d.new").is_dir()
    collect(tmp_path, seed=1, overwrite=True)  # repairs, then finishes from the staged episodes
    assert digests(out) == digests(collect(tmp_path, "fresh", seed=1))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".d")) == [".d.lock"]


def test_a_failed_write_changes_nothing(tmp_path):
    folder = DatasetFolder(tmp_path / "d")
    _fake_dataset(folder.path, "a")

    def fail(build: Path) -> None:
        (build / "steps.parquet").write_text("partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        folder.replace(fail, None)
    assert (folder.path / "steps.parquet").read_text() == "a"
    assert not folder.build_path.exists() and not folder.old_path.exists()
    assert sorted(os.listdir(tmp_path)) == ["d"]
    assert sorted(os.listdir(folder.path)) == ["episodes.parquet", "metadata.json",
                                               "steps.parquet", "teacher.npz"]
