"""``il-datasets export`` (npz, hf, minari, imitation), ``push`` and ``--version``: every format
we write from the command line, one-line errors, outputs replaced only with --overwrite."""

import shutil

import numpy as np
import pytest

from imitation_datasets import __version__
from imitation_datasets.cli import build_parser, main
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import BaselineDataset

minari = pytest.importorskip("minari")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_version_and_every_command_listed(capsys):
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"il-datasets {__version__}"
    help_text = build_parser().format_help()
    for command in ("export", "push", "export-npz", "collect", "info"):
        assert command in help_text


def test_export_writes_every_format_that_loads_back(random_cartpole, tmp_path, capsys,
                                                     monkeypatch):
    arrays = read_parquet(random_cartpole)[0]
    source = tmp_path / "cp"
    shutil.copytree(random_cartpole, source)
    status, out, _ = run(capsys, "export", "hf", source)
    assert status == 0 and out.strip() == f"wrote {tmp_path / 'cp-hf'}"
    assert BaselineDataset(tmp_path / "cp-hf").arrays.equals(arrays)
    status, out, _ = run(capsys, "export", "hf", source, "--out", tmp_path / "steps.jsonl")
    assert status == 0 and BaselineDataset(tmp_path / "steps.jsonl").num_episodes == 6
    status, out, _ = run(capsys, "export", "npz", source, "--out", tmp_path / "t.npz")
    npz = BaselineDataset(tmp_path / "t.npz").arrays  # the original layout: no final obs
    assert status == 0 and np.array_equal(npz.obs, arrays.obs) and npz.final_obs is None
    status, out, _ = run(capsys, "export", "imitation", source)
    assert status == 0 and (tmp_path / "cp-imitation" / "state.json").is_file()
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    status, out, _ = run(capsys, "export", "minari", source, "--id", "il/cartpole/random-v0")
    assert status == 0 and "hdf5, 6 episodes" in out
    exported = minari.load_dataset("il/cartpole/random-v0")
    # a random dataset: the curated CartPole expert's card return is the reference maximum
    assert exported.storage.metadata["ref_max_score"] == 500.0
    assert exported.storage.metadata["data_format"] == "hdf5"


def test_export_refuses_in_one_line(random_cartpole, tmp_path, capsys):
    source = tmp_path / "cp"
    shutil.copytree(random_cartpole, source)
    assert run(capsys, "export", "hf", source)[0] == 0
    status, _, err = run(capsys, "export", "hf", source)
    assert status == 2 and err.strip().endswith("cp-hf: exists; pass --overwrite to replace it")
    assert run(capsys, "export", "hf", source, "--overwrite")[0] == 0
    status, _, err = run(capsys, "export", "hf", source, "--out", source, "--overwrite")
    assert status == 2 and "not a folder 'export hf' wrote" in err
    assert (source / "steps.parquet").is_file()  # never deleted
    (tmp_path / "link-hf").symlink_to(tmp_path / "cp-hf")  # an export's folder, through a link
    status, _, err = run(capsys, "export", "hf", source, "--out", tmp_path / "link-hf",
                         "--overwrite")
    assert status == 2 and "link-hf: is a link; refusing to replace" in err
    assert (tmp_path / "cp-hf").is_dir()
    status, _, err = run(capsys, "export", "minari", source)
    assert status == 2 and "needs --id" in err
    status, _, err = run(capsys, "export", "zip", source)
    assert status == 2 and "must be one of 'npz', 'hf', 'minari', 'imitation'" in err
    status, _, err = run(capsys, "export", "hf", tmp_path / "missing")
    assert status == 2 and len(err.strip().splitlines()) == 1


def test_push_uploads_the_hub_folder(random_cartpole, tmp_path, capsys, monkeypatch):
    from huggingface_hub import HfApi

    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create"] = (repo_id, kwargs)

    def upload_folder(self, *, folder_path, repo_id, repo_type, revision=None, **kwargs):
        calls["upload"] = (repo_id, repo_type, revision)
        shutil.copytree(folder_path, tmp_path / "uploaded")
        return type("CommitInfo", (), {"commit_url": "https://hub/commit/1"})()

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    status, out, _ = run(capsys, "push", random_cartpole, "me/cp", "--private",
                         "--revision", "dev")
    assert status == 0 and out.strip() == f"pushed {random_cartpole} to https://hub/commit/1"
    assert calls["create"] == ("me/cp", {"repo_type": "dataset", "private": True,
                                         "exist_ok": True})
    assert calls["upload"] == ("me/cp", "dataset", "dev")
    uploaded = BaselineDataset(tmp_path / "uploaded")
    np.testing.assert_array_equal(uploaded.arrays.obs, read_parquet(random_cartpole)[0].obs)


def test_info_prints_figures_with_two_decimals(random_cartpole, capsys):
    status, out, _ = run(capsys, "info", random_cartpole)
    line = next(line for line in out.splitlines() if line.startswith("random return"))
    value = line.split()[-1]
    assert status == 0 and len(value.split(".")[1]) == 2, line


def test_expert_table_names_the_extra_each_expert_needs():
    from imitation_datasets.cli.experts import expert_table

    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")
            for line in expert_table(markdown=True).splitlines()[2:]}
    assert rows["cartpole"][2] == "-"
    assert rows["lunarlander"][2] == rows["bipedalwalker"][2] == "[box2d]"
    assert rows["lunarlandercontinuous"][2] == "[box2d]" and rows["hopper"][2] == "[mujoco]"
