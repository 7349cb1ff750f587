"""``il-datasets push KEY --repo ORG/NAME``: a catalogue entry's splits, verified, to one hub repo.

Tested up to the network call: ``HfApi.create_repo``/``upload_folder`` are replaced by a fake
that copies the uploaded folder into a local hub cache, from which the repo loads back offline
(``BaselineDataset(repo, source="hf", hf_split=...)``) and verifies against the catalogue
(``get_dataset(key, split, repo=repo)``). The catalogue entry is shrunk to 4 episodes per split
so that the three splits (curated expert, random, medium expert) are regenerated in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_extras import run_blocked
from test_hub import fake_hub_cache

from imitation_datasets.catalogue import CATALOGUE, FingerprintMismatch, get_dataset
from imitation_datasets.catalogue.entries import Entry, Split
from imitation_datasets.catalogue.get import regenerate
from imitation_datasets.catalogue.push import push, stage
from imitation_datasets.cli import main
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.sources import load_source

REPO = "someone/CartPole-v1"
EPISODES = 4


@pytest.fixture(scope="module")
def tiny_fingerprints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Fingerprints of 4-episode CartPole splits (dataset seed 0), regenerated once."""
    tmp = tmp_path_factory.mktemp("tiny")
    spec = Split(EPISODES, 0, None, None, None)
    entry = Entry("cartpole", "CartPole-v1", spec, spec, spec)
    saved = CATALOGUE["cartpole"]
    CATALOGUE["cartpole"] = entry
    try:
        return {split: content_fingerprint(load_source(
            regenerate("cartpole", split, tmp / split)).arrays) for split in entry.splits()}
    finally:
        CATALOGUE["cartpole"] = saved


@pytest.fixture
def tiny_catalogue(tiny_fingerprints: dict[str, str], tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """The catalogue's CartPole entry with 4-episode splits and their fingerprints; an empty
    catalogue cache; a token; returns the local hub cache the fake upload fills."""
    def split(name: str) -> Split:
        return Split(EPISODES, 0, tiny_fingerprints[name], None, None)

    monkeypatch.setitem(CATALOGUE, "cartpole", Entry("cartpole", "CartPole-v1", split("train"),
                                                     split("random"), split("medium")))
    monkeypatch.setenv("IL_DATASETS_CACHE", str(tmp_path / "catalogue"))
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    return tmp_path / "hub"


@pytest.fixture
def uploads(tiny_catalogue: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    """Replace the two network calls; each upload is recorded and put in the local hub cache."""
    from huggingface_hub import HfApi

    calls: list = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create", repo_id, kwargs))

    def upload_folder(self, *, folder_path, repo_id, repo_type, **kwargs):
        folder = Path(folder_path)
        calls.append(("upload", repo_id, repo_type, kwargs, self.token, sorted(
            p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())))
        shutil.copytree(folder, tmp_path / "uploaded")
        fake_hub_cache(tiny_catalogue, repo_id, {p.name: p for p in folder.iterdir()})
        return "commit-info"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return calls


def test_push_uploads_every_split_with_its_own_metadata(uploads: list, tmp_path: Path,
                                                        tiny_catalogue: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert main(["push", "cartpole", "--repo", REPO, "--private"]) == 0
    assert f"pushed cartpole to {REPO}" in capsys.readouterr().out
    (create, repo, kwargs), upload = uploads[0], uploads[1]
    assert (create, repo, kwargs["repo_type"], kwargs["private"]) == ("create", REPO, "dataset",
                                                                     True)
    assert upload[:3] == ("upload", REPO, "dataset") and upload[4] == "hf_test_token"
    assert upload[5] == [
        "README.md", "data/medium-00000-of-00001.parquet", "data/random-00000-of-00001.parquet",
        "data/train-00000-of-00001.parquet", "metadata/medium/metadata.json",
        "metadata/random/metadata.json", "metadata/train/metadata.json"]
    folder = tmp_path / "uploaded"
    experts = {s: json.loads((folder / "metadata" / s / "metadata.json").read_text())["expert"]
               for s in ("train", "random", "medium")}
    assert experts["train"]["id"] == "cartpole" and experts["random"]["kind"] == "random"
    assert experts["medium"]["id"] == "cartpole-medium" and experts["medium"]["level"] == "medium"
    card = (folder / "README.md").read_text()
    for split in ("train", "random", "medium"):
        assert f"- split: {split}\n    path: data/{split}-*.parquet" in card
        assert CATALOGUE["cartpole"].split(split).fingerprint in card


def test_what_was_pushed_loads_back_offline_and_verifies(uploads: list, tiny_catalogue: Path,
                                                         tmp_path: Path) -> None:
    assert main(["push", "cartpole", "--repo", REPO, "--splits", "random,medium"]) == 0
    assert uploads[1][5][0] == "README.md" and len(uploads[1][5]) == 5
    # the catalogue's check, reading the pushed repo from the hub cache
    for split in ("random", "medium"):
        got = get_dataset("cartpole", split, tmp_path / f"back-{split}", repo=REPO,
                          hub_cache=tiny_catalogue)
        assert got.source == "hub cache" and got.verified, split
    # BaselineDataset(source="hf") in a fresh process with the hub offline
    code = textwrap.dedent("""
        import json, sys
        from imitation_datasets.data.fingerprint import content_fingerprint
        from imitation_datasets.dataset import BaselineDataset
        out = {}
        for split in ("random", "medium"):
            data = BaselineDataset(sys.argv[1], source="hf", hf_split=split)
            out[split] = [content_fingerprint(data.arrays), data.episode_seeds.tolist()]
        print(json.dumps(out))
    """)
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tiny_catalogue),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code, REPO], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    for split in ("random", "medium"):
        local = load_source(tmp_path / "catalogue" / f"cartpole-{split}").arrays
        assert out[split] == [CATALOGUE["cartpole"].split(split).fingerprint,
                              local.seeds.tolist()], split
    assert out["random"][1] != out["medium"][1] or out["random"][0] != out["medium"][0]


def test_each_split_keeps_its_own_seeds_and_provenance(tiny_catalogue: Path,
                                                       tmp_path: Path) -> None:
    """Without per-split metadata a hub folder would give every split the same seeds."""
    staged = stage("cartpole", tmp_path / "repo", ("train", "random"))
    assert not (staged.folder / "metadata.json").exists()
    from imitation_datasets.data.hub_folder import HubLayout, split_metadata

    for split in ("train", "random"):
        loaded = HubLayout().read(staged.folder, split=split)
        expected = CATALOGUE["cartpole"].split(split).fingerprint
        assert content_fingerprint(loaded.arrays) == expected
        assert loaded.metadata is not None
        assert loaded.metadata["expert"]["kind"] == ("random" if split == "random" else "curated")
    with pytest.raises(ValueError, match="letters, digits"):
        split_metadata(staged.folder, "../train")


def test_a_tampered_split_is_not_pushed(uploads: list, tiny_catalogue: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from imitation_datasets.data.parquet import write_parquet

    source = tmp_path / "catalogue" / "cartpole-random"
    regenerate("cartpole", "random", source)
    loaded = load_source(source)
    loaded.arrays.actions[0] = 1 - loaded.arrays.actions[0]
    shutil.rmtree(source)
    write_parquet(source, loaded.arrays, loaded.metadata)
    with pytest.raises(FingerprintMismatch):
        push("cartpole", REPO, ("random",))
    assert main(["push", "cartpole", "--repo", REPO, "--splits", "random"]) == 1
    assert "is not the catalogue's" in capsys.readouterr().err
    assert uploads == []


@pytest.mark.parametrize(("args", "message"), [
    (["push", "cartpole", "--repo", "no-slash"], "expected ORG/NAME"),
    (["push", "cartpole", "--repo", REPO, "--splits", "expert"], "cartpole has no split 'expert'"),
    (["push", "hopper-medium", "--repo", REPO], "hopper has no split 'medium'"),
    (["push", "no-such-key", "--repo", REPO], "unknown catalogue dataset"),
    (["push", "cartpole", "org/x", "--repo", REPO], "not both"),
    (["push", "cartpole"], "either REPO_ID"),
    (["push", "cartpole", "--repo", REPO, "--split", "train"], "takes --splits"),
])
def test_bad_push_arguments_are_one_line(args: list[str], message: str, uploads: list,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert uploads == []


def test_no_token_is_one_line_before_any_work(uploads: list, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import huggingface_hub

    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    assert main(["push", "cartpole", "--repo", REPO]) == 2
    err = capsys.readouterr().err.strip()
    assert "no HuggingFace token" in err and len(err.splitlines()) == 1
    assert uploads == [] and not (tmp_path / "catalogue").exists()  # nothing regenerated


def test_push_without_the_hf_extra_names_it(tmp_path: Path) -> None:
    result = run_blocked("huggingface_hub", """
        from imitation_datasets.cli import main
        raise SystemExit(main(sys.argv[1:]))
    """, "push", "cartpole", "--repo", REPO)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        'il-datasets: error: il-datasets push needs the [hf] extra (huggingface_hub not '
        'installed): pip install "imitation-datasets[hf]"']


def test_the_medium_key_names_its_split(tiny_catalogue: Path, tmp_path: Path) -> None:
    got = get_dataset("cartpole-medium", out=tmp_path / "m")
    assert got.verified and got.fingerprint == CATALOGUE["cartpole"].medium.fingerprint
    assert np.all(load_source(got.path).arrays.lengths > 0)
    from imitation_datasets.dataset import BaselineDataset

    dataset = BaselineDataset("cartpole", source="catalogue", hf_split="medium")
    assert content_fingerprint(dataset.arrays) == got.fingerprint
    assert main(["get", "cartpole-medium", "--split", "random"]) == 2


def test_a_repo_folder_reads_with_datasets_alone(tmp_path: Path) -> None:
    """The card's one config lists every split, so ``datasets`` reads each split's file."""
    datasets = pytest.importorskip("datasets")
    from conftest import make_dataset

    from imitation_datasets.data.hub_folder import HubLayout

    loaded = {"train": load_source(make_dataset(tmp_path, 3, name="e")),
              "random": load_source(make_dataset(tmp_path, 2, random=True, name="r"))}
    folder = HubLayout().write_repo(loaded, tmp_path / "repo")
    for split, data in loaded.items():
        steps = datasets.load_dataset(str(folder), split=split, cache_dir=str(tmp_path / "c"))
        assert len(steps) == data.arrays.n_steps
        np.testing.assert_allclose(steps[1]["obs"], data.arrays.obs[1])
        assert HubLayout().read(folder, split=split).metadata == data.metadata
