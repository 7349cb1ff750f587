"""The catalogue: committed fingerprints reproduced; get from a folder, the hub cache, or by
regeneration; a dataset that is not the catalogue's is refused."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.catalogue import CATALOGUE, FingerprintMismatch, get_dataset
from imitation_datasets.catalogue.entries import EPISODES
from imitation_datasets.cli import main
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.huggingface import write_hub_folder
from imitation_datasets.data.parquet import write_parquet
from imitation_datasets.data.sources import load_source

SMALL = ("cartpole", "random")
"""The split CI regenerates in full: 1000 random CartPole episodes (about 22,000 steps)."""


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalogue") / "cartpole-random"
    got = get_dataset(*SMALL, out, hub_cache=tmp_path_factory.mktemp("empty-hub"))
    assert got.source == "regenerated" and got.verified and got.path == out
    return out


def test_small_classic_entries_have_committed_fingerprints() -> None:
    for key in ("acrobot", "cartpole", "mountaincar", "mountaincarcontinuous", "pendulum"):
        for split in ("train", "random"):
            spec = CATALOGUE[key].split(split)
            assert spec.fingerprint is not None and len(spec.fingerprint) == 64, (key, split)
            assert spec.episodes == EPISODES and spec.steps and spec.steps >= EPISODES


def test_regenerated_split_matches_the_committed_fingerprint(regenerated: Path) -> None:
    arrays = load_source(regenerated).arrays
    spec = CATALOGUE["cartpole"].random
    assert arrays.n_episodes == spec.episodes and arrays.n_steps == spec.steps
    assert content_fingerprint(arrays) == spec.fingerprint


def test_get_reads_a_local_folder_and_checks_it(regenerated: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    again = get_dataset(*SMALL, regenerated)
    assert again.source == "local folder" and again.verified
    assert main(["get", "cartpole", "--split", "random", "--out", str(regenerated)]) == 0
    assert "matches the catalogue's fingerprint" in capsys.readouterr().out
    loaded = load_source(regenerated)
    loaded.arrays.actions[100] = 1 - loaded.arrays.actions[100]
    tampered = write_parquet(tmp_path / "tampered", loaded.arrays, loaded.metadata)
    with pytest.raises(FingerprintMismatch, match="is not the catalogue's"):
        get_dataset(*SMALL, tampered)
    assert main(["get", "cartpole", "--split", "random", "--out", str(tampered)]) == 1
    assert "measured with gymnasium" in capsys.readouterr().err


def test_get_takes_the_hub_cache_before_regenerating(regenerated: Path, tmp_path: Path) -> None:
    """A hub repo in the local cache (no network) is read, verified and written out."""
    snapshot = tmp_path / "hub" / "datasets--il-datasets--CartPole-v1" / "snapshots" / "abc123"
    write_hub_folder(regenerated, snapshot, split="random")
    refs = snapshot.parent.parent / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc123")
    got = get_dataset(*SMALL, tmp_path / "out", hub_cache=tmp_path / "hub")
    assert got.source == "hub cache" and got.verified
    original, copied = load_source(regenerated).arrays, load_source(got.path).arrays
    assert np.array_equal(original.obs, copied.obs) and np.array_equal(original.seeds,
                                                                       copied.seeds)


def test_datasets_lists_every_expert(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets"]) == 0
    table = capsys.readouterr().out
    for key in CATALOGUE:
        assert f"{key} " in table
    # header + one row per split (train and random each; medium where a medium expert ships)
    assert len(table.splitlines()) == 1 + sum(len(e.splits()) for e in CATALOGUE.values())
    assert re.search(r"\ncartpole +medium +CartPole-v1 +cartpole-medium +1000 ", table)
    assert main(["datasets", "--keys", "hopper", "--markdown"]) == 0
    assert "| hopper | train | Hopper-v5 |" in capsys.readouterr().out
    assert main(["get", "no-such-key"]) == 2


def test_verify_regenerates_and_checks_every_listed_fingerprint(
        capsys: pytest.CaptureFixture[str]) -> None:
    """What CI runs for the small ones: the three CartPole splits (about 770,000 steps, the
    cartpole-medium expert's included) from scratch."""
    assert main(["datasets", "--verify", "--keys", "cartpole"]) == 0
    out = capsys.readouterr().out
    assert "cartpole train: regenerated, fingerprint 7e7402315aab145d... matches" in out
    assert "cartpole random: regenerated, fingerprint dd41f71918806733... matches" in out
    assert "cartpole medium: regenerated, fingerprint e9c4cfaf305270c1... matches" in out


def test_baseline_dataset_reads_a_catalogue_key(regenerated: Path, monkeypatch) -> None:
    from imitation_datasets.catalogue.get import CACHE_ENV
    from imitation_datasets.dataset import BaselineDataset

    monkeypatch.setenv(CACHE_ENV, str(regenerated.parent))
    dataset = BaselineDataset("cartpole", source="catalogue", hf_split="random", n_episodes=10)
    direct = BaselineDataset(regenerated, n_episodes=10)
    assert len(dataset) == len(direct) > 0
    assert all(np.array_equal(a, b) for a, b in zip(dataset[3], direct[3]))
