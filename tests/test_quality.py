"""Quality metrics on synthetic datasets whose answers are known, and on real collections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.cli import main
from imitation_datasets.core.acting import batch_actions
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.experts import Experts
from imitation_datasets.quality import QualityOptions, compare_datasets, dataset_quality
from imitation_datasets.quality.estimators import energy_test, fences, kl_entropy, knn


def arrays_from(obs: np.ndarray, actions: np.ndarray, lengths: list[int],
                rewards: np.ndarray | None = None) -> DatasetArrays:
    """A dataset of the given steps (rewards 1 unless given; every episode truncated)."""
    total = sum(lengths)
    ends = np.cumsum(lengths) - 1
    truncated = np.zeros(total, bool)
    truncated[ends] = True
    return DatasetArrays(obs=obs.astype(np.float32), actions=actions,
                         rewards=np.ones(total) if rewards is None else rewards,
                         terminated=np.zeros(total, bool), truncated=truncated,
                         lengths=np.array(lengths, np.int64),
                         final_obs=obs[ends].astype(np.float32),
                         seeds=np.arange(len(lengths), dtype=np.int64),
                         attempts=np.ones(len(lengths), np.int64))


def cartpole_metadata() -> dict:
    return {"env": {"id": "CartPole-v1"}}


def discrete_dataset(flip: float, seed: int = 0) -> LoadedData:
    """CartPole-like states; actions from a fixed rule, a fraction ``flip`` of them flipped."""
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(2000, 4))
    actions = (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)
    flipped = rng.random(2000) < flip
    actions[flipped] = 1 - actions[flipped]
    return LoadedData(arrays_from(obs, actions, [100] * 20), None, f"flip{flip}")


def box_dataset(noise: float, seed: int = 0) -> LoadedData:
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(2000, 3))
    actions = np.tanh(obs[:, :2]) + noise * rng.normal(size=(2000, 2))
    return LoadedData(arrays_from(obs, actions, [100] * 20), None, f"noise{noise}")


def test_noisier_discrete_actions_are_less_consistent() -> None:
    scores = [dataset_quality(discrete_dataset(f))["actions"] for f in (0.0, 0.1, 0.3)]
    consistency = [s["consistency"] for s in scores]
    assert consistency[0] > consistency[1] > consistency[2]
    assert consistency[0] > 0.7 and consistency[2] < 0.3
    assert all(abs(s["entropy"] - np.log(2)) < 0.05 for s in scores)  # the marginal is balanced


def test_noisier_box_actions_are_less_consistent() -> None:
    scores = [dataset_quality(box_dataset(n))["actions"] for n in (0.0, 0.2, 0.5)]
    consistency = [s["consistency"] for s in scores]
    assert consistency[0] > consistency[1] > consistency[2]
    local = [s["knn_action_variance"] for s in scores]
    assert local[2] == pytest.approx(0.25, rel=0.3)  # dominated by the noise's variance


def test_action_divergence_is_the_expert_disagreement_rate() -> None:
    """The expert is asked at the dataset's states: divergence = fraction of changed actions."""
    rng = np.random.default_rng(3)
    obs = rng.normal(scale=0.05, size=(600, 4)).astype(np.float32)
    expert_actions = batch_actions(Experts.get_expert("cartpole"), obs)
    actions = expert_actions.copy()
    changed = rng.random(600) < 0.2
    actions[changed] = 1 - actions[changed]
    loaded = LoadedData(arrays_from(obs, actions.astype(np.int64), [60] * 10),
                        cartpole_metadata(), "synthetic")
    expert = dataset_quality(loaded)["expert"]
    assert expert["expert"] == "cartpole" and expert["kind"] == "disagreement_rate"
    assert expert["action_divergence"] == pytest.approx(changed.mean())


def test_duplicates_and_outliers_are_flagged_with_reasons() -> None:
    rng = np.random.default_rng(1)
    episodes = [np.cumsum(rng.normal(size=(50, 3)), axis=0) for _ in range(12)]
    episodes[4] = episodes[1].copy()                                   # exact copy
    episodes[7] = episodes[2] + 1e-4 * rng.normal(size=(50, 3))        # near copy
    episodes[9] = episodes[9] + 200.0                                  # far from the others
    obs = np.concatenate(episodes)
    actions = (obs[:, 0] > 0).astype(np.int64)
    rewards = np.ones(len(obs))
    rewards[10 * 50:11 * 50] = -5.0                                     # one bad return
    arrays = arrays_from(obs, actions, [50] * 12, rewards)
    arrays.seeds[11] = arrays.seeds[0]                                  # a reused reset seed
    flags = dataset_quality(LoadedData(arrays, None, "synthetic"))["flags"]["flagged"]
    assert any("same observations and actions as episode 1" in r for r in flags["4"])
    assert any(r.startswith("near-duplicate") and "episode 2" in r for r in flags["7"])
    assert any("states far from other episodes" in r for r in flags["9"])
    assert any(r.startswith("outlier: return -250") for r in flags["10"])
    assert any("same reset seed" in r and "episode 0" in r for r in flags["11"])
    assert set(flags) == {"4", "7", "9", "10", "11"}, flags


def test_estimators_on_known_distributions() -> None:
    rng = np.random.default_rng(0)
    gaussian = rng.normal(size=(3000, 2))
    exact = np.log(2 * np.pi * np.e)  # entropy of a standard 2-D Gaussian
    assert kl_entropy(gaussian, 5) == pytest.approx(exact, abs=0.08)
    narrow = kl_entropy(0.1 * gaussian, 5)
    assert narrow == pytest.approx(exact + 2 * np.log(0.1), abs=0.08)
    neighbours, distances = knn(np.array([[0.0], [1.0], [3.0], [3.5]]), 2)
    assert neighbours[0].tolist() == [1, 2] and distances[3].tolist() == [0.5, 2.5]
    same = energy_test(gaussian[:300], gaussian[300:600], 99, seed=0)
    shifted = energy_test(gaussian[:300], gaussian[300:600] + 0.5, 99, seed=0)
    assert same["p_value"] > 0.05 and shifted["p_value"] == 0.01
    assert shifted["energy_distance"] > 10 * abs(same["energy_distance"])
    assert fences(np.array([1.0, 2, 3, 4, 5]), 1.0) == (0.0, 6.0)


def test_results_are_seeded_and_record_the_sample() -> None:
    loaded = box_dataset(0.2)
    first = dataset_quality(loaded, QualityOptions(sample_size=500, seed=4))
    assert first == dataset_quality(loaded, QualityOptions(sample_size=500, seed=4))
    other = dataset_quality(loaded, QualityOptions(sample_size=500, seed=5))
    assert first["sample"] == {"size": 500, "population": 2000, "seed": 4}
    assert other["states"]["knn_entropy"] != first["states"]["knn_entropy"]


@pytest.fixture(scope="module")
def cartpole_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("quality")
    runs = {"seed0": ["cartpole", "--seed", "0"], "seed1": ["cartpole", "--seed", "1"],
            "random": ["CartPole-v1", "--random", "--seed", "0"]}
    for name, args in runs.items():
        assert main(["collect", *args, "--episodes", "12", "--workers", "1", "--quiet",
                     "--out", str(root / name)]) == 0
    return {name: root / name for name in runs}


def test_two_creations_with_different_seeds_are_close(cartpole_runs: dict[str, Path]) -> None:
    options = QualityOptions(sample_size=1500, comparison_size=600, permutations=99)
    same = compare_datasets(cartpole_runs["seed0"], cartpole_runs["seed1"], options)["between"]
    other = compare_datasets(cartpole_runs["seed0"], cartpole_runs["random"], options)["between"]
    assert same["states"]["p_value"] > 0.05
    assert other["states"]["p_value"] <= 0.02
    assert other["states"]["homogeneity"] > 20 * same["states"]["homogeneity"]
    assert same["expert_action_divergence"]["difference"] == 0.0
    assert other["expert_action_divergence"]["b"] > 0.3
    assert same["returns_ks"] == 0.0 and other["returns_ks"] == 1.0


def test_cli_quality_prints_and_writes_json(cartpole_runs: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "q.json"
    assert main(["quality", str(cartpole_runs["random"]), "--against",
                 str(cartpole_runs["seed0"]), "--sample-size", "800", "--permutations", "19",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "action divergence" in text and "energy distance" in text
    written = json.loads(out.read_text())
    assert written["a"]["expert"]["action_divergence"] > 0.3
    assert written["b"]["expert"]["action_divergence"] == 0.0
    assert written["between"]["states"]["permutations"] == 19
    assert main(["quality", str(tmp_path / "missing")]) == 2
    assert main(["quality", str(cartpole_runs["seed0"]), "--expert", "pendulum"]) == 2
    assert "plays Pendulum-v1" in capsys.readouterr().err


def test_image_observations_get_no_state_metrics_but_episode_checks() -> None:
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 255, size=(60, 72, 72, 3), dtype=np.uint8)
    frames[40:60] = frames[0:20]  # episode 2 repeats episode 0
    actions = rng.integers(0, 2, 60).astype(np.int64)
    actions[40:60] = actions[0:20]
    arrays = arrays_from(frames, actions, [20, 20, 20])
    arrays.final_obs = frames[[19, 39, 59]]
    quality = dataset_quality(LoadedData(arrays, None, "frames"))
    assert "state metrics skipped" in quality["states"]["note"]
    assert "actions" not in quality and "expert" not in quality
    assert quality["flags"]["flagged"] == {
        "2": ["duplicate: same observations and actions as episode 0"]}


def test_datasets_of_two_environments_are_not_compared(cartpole_runs: dict[str, Path],
                                                       tmp_path: Path) -> None:
    assert main(["collect", "pendulum", "--episodes", "2", "--workers", "1", "--quiet",
                 "--out", str(tmp_path / "p")]) == 0
    with pytest.raises(ValueError, match="observations differ in shape|different environments"):
        compare_datasets(cartpole_runs["seed0"], tmp_path / "p")


def test_state_comparison_of_episodes_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from imitation_datasets.quality import episodes

    monkeypatch.setattr(episodes, "MAX_SIGNATURE_EPISODES", 6)
    loaded = discrete_dataset(0.1)
    first = dataset_quality(loaded, QualityOptions(seed=1))["flags"]
    assert first["episodes_compared_by_states"] == 6
    assert first == dataset_quality(loaded, QualityOptions(seed=1))["flags"]  # seeded subset
    monkeypatch.setattr(episodes, "MAX_SIGNATURE_EPISODES", 100)
    assert dataset_quality(loaded)["flags"]["episodes_compared_by_states"] == 20
