"""Sub-optimal datasets on purpose: seeded action noise and expert/random mixtures, measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imitation_datasets.cli import main
from imitation_datasets.collect.controller import Controller
from imitation_datasets.collect.noise import random_episode
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.data.sources import load_source
from imitation_datasets.functions import baseline_collate
from imitation_datasets.quality import QualityOptions, dataset_quality
from imitation_datasets.quality.report import ReportOptions, dataset_report

FILES = ("steps.parquet", "episodes.parquet", "metadata.json", "teacher.npz")


def collect(out: Path, env: str, *extra: str, episodes: int = 8, workers: int = 1) -> Path:
    assert main(["collect", env, "--episodes", str(episodes), "--workers", str(workers),
                 "--quiet", "--out", str(out), *extra]) == 0
    return out


def metadata(path: Path) -> dict:
    return json.loads((path / "metadata.json").read_text())


@pytest.mark.parametrize("env, noise", [("cartpole", "0.3"), ("pendulum", "0.2")])
def test_noisy_datasets_are_seeded_byte_for_byte(tmp_path: Path, env: str, noise: str) -> None:
    args = ("--seed", "5", "--action-noise", noise, "--random-episodes", "0.3")
    one = collect(tmp_path / "one", env, *args)
    two = collect(tmp_path / "two", env, *args, "--envs-per-worker", "3", workers=2)
    for name in FILES:
        if name != "metadata.json":
            assert (one / name).read_bytes() == (two / name).read_bytes(), name
    first, second = metadata(one), metadata(two)
    first.pop("creation"), second.pop("creation")
    assert first == second
    other = collect(tmp_path / "other", env, "--seed", "6", "--action-noise", noise)
    assert (other / "steps.parquet").read_bytes() != (one / "steps.parquet").read_bytes()
    clean = collect(tmp_path / "clean", env, "--seed", "5", "--threshold=-1e9")  # no retries
    assert load_source(clean).arrays.seeds.tolist() == load_source(one).arrays.seeds.tolist()
    assert (clean / "steps.parquet").read_bytes() != (one / "steps.parquet").read_bytes()
    assert "noise" not in metadata(clean)["collection"]
    assert "normalized_score" not in metadata(clean)["reference"]


def test_metadata_records_noise_mixture_and_reference_scores(tmp_path: Path) -> None:
    out = collect(tmp_path / "mix", "cartpole", "--seed", "1", "--action-noise", "0.1",
                  "--random-episodes", "0.5", episodes=12)
    meta = metadata(out)
    noise = meta["collection"]["noise"]
    assert noise["action_noise"] == {"kind": "epsilon_random", "scale": 0.1}
    assert noise["random_episodes"] == 0.5
    seeds = load_source(out).arrays.seeds.tolist()
    expected = [i for i, s in enumerate(seeds) if random_episode(s, 0.5)]
    assert noise["random_episode_indices"] == expected and 0 < len(expected) < 12
    assert meta["collection"]["threshold"] == "-inf"  # sub-optimal on purpose: no filter
    reference = meta["reference"]
    assert reference["ref_min_score"] == reference["random_return_mean"]
    assert reference["ref_max_score"] == reference["expert_return_mean"] == 500.0
    assert reference["normalized_score"] == pytest.approx(
        100 * (meta["returns"]["mean"] - reference["ref_min_score"])
        / (reference["ref_max_score"] - reference["ref_min_score"]))
    returns = load_source(out).arrays.returns
    random_mean = returns[expected].mean()
    expert_mean = returns[[i for i in range(12) if i not in expected]].mean()
    assert random_mean < 100 < expert_mean  # random episodes fail early, noisy experts do not
    quality = dataset_quality(out, QualityOptions(sample_size=3000))
    assert quality["returns"]["normalised_score"] == pytest.approx(reference["normalized_score"])
    expert = quality["expert"]  # short random episodes weigh little among steps, much per episode
    assert expert["episode_weighted_divergence"] > 2 * expert["action_divergence"]
    page = dataset_report(out, tmp_path / "mix.html", ReportOptions(clips=1, frames=2, audit=2))
    table = page.path.read_text().split('<table id="episodes">')[1]
    assert table.count("<td>random</td>") == len(expected)


def test_noisier_collections_score_lower(tmp_path: Path) -> None:
    """The quality metrics see the noise that was put in: the expert divergence is its size."""
    options = QualityOptions(sample_size=2000)
    discrete = [dataset_quality(collect(tmp_path / f"c{e}", "cartpole", "--seed", "0",
                                        "--action-noise", e, episodes=4), options)
                for e in ("0", "0.2", "0.6")]
    divergence = [q["expert"]["action_divergence"] for q in discrete]
    assert divergence[0] == 0.0
    assert divergence[1] == pytest.approx(0.2 / 2, abs=0.03)  # random actions: right half the time
    assert divergence[2] == pytest.approx(0.6 / 2, abs=0.05)
    consistency = [q["actions"]["consistency"] for q in discrete]
    assert consistency[0] > consistency[1] > consistency[2]
    box = [dataset_quality(collect(tmp_path / f"p{s}", "pendulum", "--seed", "0",
                                   "--action-noise", s, episodes=4), options)
           for s in ("0", "0.1", "0.3")]
    mse = [q["expert"]["action_divergence"] for q in box]
    assert mse[0] == 0.0
    assert mse[1] == pytest.approx(0.1 ** 2, rel=0.35)  # sigma in half action ranges, clipped
    assert mse[1] < mse[2] < 0.3 ** 2 * 1.2
    assert box[0]["actions"]["consistency"] > box[2]["actions"]["consistency"]


def test_bad_noise_options_are_one_line_errors(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "cartpole", "--episodes", "2", "--action-noise", "1.5",
                 "--out", str(tmp_path / "a")]) == 2
    assert "probability for Discrete actions" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # refused by the parser, naming the argument
        main(["collect", "cartpole", "--episodes", "2", "--random-episodes", "2",
              "--out", str(tmp_path / "b")])
    assert exited.value.code == 2
    assert "argument --random-episodes: random_episodes must be in [0, 1]" in \
        capsys.readouterr().err
    assert main(["collect", "CartPole-v1", "--random", "--episodes", "2", "--action-noise",
                 "0.1", "--out", str(tmp_path / "c")]) == 2
    assert "not with random or pixels" in capsys.readouterr().err

    def enjoy(expert, path, context):  # a user's enjoy plays its own actions
        return True

    with pytest.raises(ConfigError, match="need the built-in enjoy"):
        Controller(enjoy, baseline_collate, episodes=2, action_noise=0.1, progress=False,
                   path=tmp_path).start({"game": "cartpole"})
