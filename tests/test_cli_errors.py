"""Errors a user can act on: a path that cannot be written or read is one line naming it, exit 2.

Nothing staged is lost, and the same command succeeds (resuming) once the cause is gone.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import digests
from hanging_env import ENV_ID

from imitation_datasets.cli import main
from imitation_datasets.collect.functions import DatasetCollate
from imitation_datasets.collect.staging import Staging

DATA = ("steps.parquet", "episodes.parquet", "teacher.npz")  # metadata records the command


def collect(out, *extra):
    """A fast collection (toy env, random actions) into ``out``; returns the exit status."""
    return main(["collect", ENV_ID, "--random", "--episodes", "6", "--envs-per-worker", "1",
                 "--out", str(out), "--quiet", *extra])


def one_line(capsys, *names):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("il-datasets: error: "), err
    assert "Traceback" not in err and all(str(n) in err for n in names), err
    return err


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "ds"
    assert collect(out) == 0
    return digests(out, DATA)


@pytest.fixture
def read_only_dir(tmp_path):
    """``(folder, make_writable)``: a folder nobody can write to (a read-only tmpfs as root)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder, lambda: folder.chmod(0o755)
        folder.chmod(0o755)
        return
    yield from tmpfs(folder, "ro,size=64m", "remount,rw")


def tmpfs(folder, options, fix):
    """Mount a tmpfs with ``options`` on ``folder``; yield it and a function applying ``fix``."""
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
            capture_output=True).returncode != 0:
        pytest.skip("needs root with mount (a tmpfs)")
    yield folder, lambda: subprocess.run(["mount", "-o", fix, str(folder)], check=True)
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def tiny_disk(tmp_path):
    """``(folder, make_room)``: a 100 kB file system, and a function that grows it to 16 MB."""
    (tmp_path / "tiny").mkdir()
    yield from tmpfs(tmp_path / "tiny", "size=100k", "remount,size=16m")


def test_read_only_out_then_writable_succeeds(read_only_dir, capsys, reference):
    folder, make_writable = read_only_dir
    assert collect(folder / "ds") == 2
    one_line(capsys, folder)
    make_writable()
    assert collect(folder / "ds") == 0
    assert digests(folder / "ds", DATA) == reference


@pytest.mark.parametrize("error, reason", [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
    (OSError("short write to the episode log (10 of 99 bytes)"), "short write"),
], ids=["ENOSPC", "short-write"])
def test_full_disk_in_a_worker_keeps_staged_episodes(tmp_path, monkeypatch, capsys, reference,
                                                     error, reason):
    append = Staging.append
    written = []

    def fill_up(fd, index, payload):  # the disk is full after three episodes
        if len(written) == 3:
            raise error
        written.append(index)
        append(fd, index, payload)

    monkeypatch.setattr(Staging, "append", staticmethod(fill_up))
    out = tmp_path / "ds"
    assert collect(out) == 2
    one_line(capsys, out, reason)
    logs = list(out.glob(".staging-*/episodes-*.log"))
    assert logs and sum(log.stat().st_size for log in logs) > 0  # what was staged is kept
    monkeypatch.setattr(Staging, "append", staticmethod(append))
    assert collect(out) == 0
    assert digests(out, DATA) == reference


def test_a_real_full_disk_then_more_room_resumes(tiny_disk, capsys):
    folder, make_room = tiny_disk
    args = ["collect", ENV_ID, "--random", "--episodes", "300", "--out", str(folder / "ds"),
            "--quiet"]
    assert main(args) == 2
    one_line(capsys, folder / "ds")
    make_room()
    assert main(args) == 0 and (folder / "ds" / "metadata.json").is_file()


def test_full_disk_while_writing_the_dataset(tmp_path, monkeypatch, capsys, reference):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "ds"
    with monkeypatch.context() as patch:
        patch.setattr(DatasetCollate, "write", full)
        assert collect(out) == 2
    one_line(capsys, out, "No space left on device")
    assert collect(out) == 0  # the staged episodes are collated, not replayed
    assert digests(out, DATA) == reference


@pytest.mark.parametrize("inside", ["", "ds"])
def test_out_that_is_or_is_inside_a_file(tmp_path, capsys, inside):
    file = tmp_path / "file"
    file.write_text("keep me")
    assert collect(file / inside) == 2
    one_line(capsys, file, "exists and is not a directory")
    assert file.read_text() == "keep me"


def test_a_300_character_name(tmp_path, capsys):
    out = tmp_path / ("n" * 300)
    assert collect(out) == 2
    one_line(capsys, out.name, "File name too long")


def test_export_npz_into_a_folder_writes_teacher_npz_there(tmp_path, capsys):
    data = tmp_path / "ds"
    assert collect(data) == 0
    target = tmp_path / "exports"
    target.mkdir()
    assert main(["export-npz", str(data), "--out", str(target)]) == 0
    assert (target / "teacher.npz").read_bytes() == (data / "teacher.npz").read_bytes()
    capsys.readouterr()
    assert main(["export-npz", str(data), "--out", str(tmp_path / "no" / "x.npz")]) == 2
    one_line(capsys, tmp_path / "no", "no such directory")


def test_errors_name_the_file_not_its_temporary_name(tmp_path, monkeypatch, capsys):
    data = tmp_path / "ds"
    assert collect(data) == 0
    capsys.readouterr()
    real_open = open

    def read_only(path, *args, **kwargs):
        if str(path).endswith(".tmp"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only)
    assert main(["export-npz", str(data), "--out", str(tmp_path / "x.npz")]) == 2
    err = one_line(capsys, tmp_path / "x.npz", "Read-only file system")
    assert ".tmp" not in err


@pytest.mark.parametrize("content, problem", [
    (json.dumps({"envs": {}, "summary": {}, "cells": [{"env": 1}]}),
     "results.cells[0].env: expected a string, got 1"),
    (json.dumps({"envs": {}, "summary": {}}), "results.cells: missing"),
    (json.dumps({"envs": {}, "cells": []}), "results.cells: empty"),
    (json.dumps([1, 2]), "results: expected an object"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("{not json", "not valid JSON"),
], ids=["wrong-type", "missing-field", "no-cells", "not-an-object", "nested-100k-deep", "not-json"])
def test_benchmark_report_of_a_wrong_file_names_the_file_and_field(tmp_path, capsys, content,
                                                                   problem):
    path = tmp_path / "benchmark_results.json"
    path.write_text(content)
    assert main(["benchmark-report", str(path)]) == 2
    one_line(capsys, path, problem)


@pytest.mark.parametrize("content, problem", [
    ([1, 2], "top level: expected an object, got [1, 2]"),
    ({"env": "reacher", "method": "bc", "seed": True}, "seed: expected an integer, got true"),
    ({"env": "reacher", "method": "bc", "seed": 0, "aer": 1.0, "performance": "high"},
     "performance: expected a number"),
    ({"env": "reacher", "method": "bc", "seed": 0, "aer": 1.0, "performance": 1.0,
      "train_seconds": 1.0, "log": {"records": [{"epoch": 1}]}},
     "log.records[0].validation_performance: missing"),
    ({"env": "../../etc", "method": "bc", "seed": 0, "aer": 1.0, "performance": 1.0,
      "train_seconds": 1.0, "log": {}}, "env: unknown benchmark environment '../../etc'"),
], ids=["not-an-object", "bool-seed", "string-performance", "record-without-score",
        "unknown-env"])
def test_a_results_folder_with_a_wrong_cell_file_names_the_file_and_field(tmp_path, capsys,
                                                                          content, problem):
    committed = Path(__file__).resolve().parents[1] / "results_mujoco"
    out = tmp_path / "results"  # a committed folder, then one of its cells overwritten
    shutil.copytree(committed / "envs", out / "envs")
    cell = out / "cells" / "reacher" / "bc" / "demos1" / "seed0.json"
    cell.parent.mkdir(parents=True)
    cell.write_text(json.dumps(content))
    assert main(["benchmark-report", str(out)]) == 2
    one_line(capsys, cell, problem)
    (out / "envs" / "reacher.json").write_text(json.dumps({"env_id": 3}))
    shutil.copy(committed / "cells" / "reacher" / "bc" / "demos1" / "seed0.json", cell)
    assert main(["benchmark-report", str(out)]) == 2
    one_line(capsys, out / "envs" / "reacher.json", "env_id: expected a string, got 3")


def test_bugs_keep_their_traceback_and_ctrl_c_exits_130(tmp_path, monkeypatch):
    import imitation_datasets.cli.datasets as datasets

    def bad_descriptor(path):
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(datasets, "describe", bad_descriptor)
    with pytest.raises(OSError):
        main(["info", str(tmp_path)])

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "describe", interrupted)
    assert main(["info", str(tmp_path)]) == 130


def test_subprocess_read_only_out_has_no_traceback(read_only_dir):
    folder, _ = read_only_dir
    result = subprocess.run([sys.executable, "-m", "imitation_datasets", "collect", "cartpole",
                             "--episodes", "2", "--out", str(folder / "ds"), "--quiet"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert str(folder) in result.stderr and "Traceback" not in result.stderr
