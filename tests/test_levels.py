"""Lower-proficiency experts (``experts/zoo/levels/``): shipped like the curated experts, chosen
by the level rule, usable wherever an expert key is, recorded in the datasets they make."""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest

from imitation_datasets.cli import main
from imitation_datasets.core.seeding import EXPERT_EVAL_SEED_START
from imitation_datasets.experts.card import CardError, ExpertCard
from imitation_datasets.experts.curated import LEVELS_DIR, ZOO_DIR, CuratedExpert, load_levels
from imitation_datasets.experts.registry import Experts

LEVELS = load_levels()
CLASSIC = ("cartpole", "acrobot", "mountaincar", "pendulum", "lunarlander")


def test_a_medium_expert_ships_for_cartpole_at_least() -> None:
    keys = {expert.key for expert in LEVELS}
    assert "cartpole-medium" in keys
    assert keys <= {f"{key}-medium" for key in (*CLASSIC, "mountaincarcontinuous",
                                                "bipedalwalker")}


@pytest.mark.parametrize("expert", LEVELS, ids=lambda e: e.key)
def test_level_cards_are_measured_and_consistent(expert: CuratedExpert) -> None:
    card, level = expert.card, expert.card.level
    assert level is not None and card.key == f"{level['expert']}-{level['name']}"
    curated = CuratedExpert.from_card_file(ZOO_DIR / f"{level['expert']}.json").card
    assert card.env_id == curated.env_id and card.algo == curated.algo
    assert level["expert_return_mean"] == curated.evaluation.return_mean
    assert level["random_return_mean"] == curated.evaluation.random_return_mean
    # measured on the curated experts' evaluation seeds; the score follows from the returns
    assert (card.evaluation.seed_start, card.evaluation.episodes) == (EXPERT_EVAL_SEED_START, 100)
    assert level["return_mean"] == card.evaluation.return_mean
    score = (card.evaluation.return_mean - level["random_return_mean"]) / (
        level["expert_return_mean"] - level["random_return_mean"])
    assert math.isclose(level["normalised_score"], score)
    assert 0.0 < score < 1.0  # better than random, worse than the expert
    low, high = level["band"]
    assert math.isclose(card.target, level["random_return_mean"] + low * (
        level["expert_return_mean"] - level["random_return_mean"]))
    # the command that made it, the recipe it follows, and the step it was taken at
    assert card.training["recipe"].startswith(
        f"python -m imitation_zoo.levels {level['expert']} --level medium --eval-every ")
    assert card.training["recipe_sha256"] and card.training["seed"] == curated.training["seed"]
    assert card.training["timesteps"] == level["checkpoint_timesteps"] <= curated.training[
        "total_timesteps"]
    assert card.evaluation.command == f"python -m imitation_zoo.evaluate {card.key}"
    # the same loader as the curated experts: safetensors checked against the card
    assert expert.load().predict(np.zeros(expert.load()._network.input_dim))[0] is not None


def test_level_experts_are_registered_under_their_own_key_only() -> None:
    medium = Experts.get_expert("cartpole-medium")
    assert medium.key == "cartpole-medium" and medium.card.level["name"] == "medium"
    assert Experts.get_expert("CartPole-v1").key == "cartpole"
    assert Experts.get_expert("cartpole").card.level is None
    provenance = medium.provenance()
    assert provenance["level"] == "medium" and provenance["expert"] == "cartpole"
    assert provenance["expert_return_mean"] == 500.0
    assert provenance["return_mean"] == medium.card.evaluation.return_mean


def test_curated_cards_have_no_level_section_on_disk() -> None:
    for path in sorted(ZOO_DIR.glob("*.json")):
        assert "level" not in json.loads(path.read_text()), path
    for path in sorted(LEVELS_DIR.glob("*.json")):
        card = ExpertCard.from_file(path)
        assert json.dumps(card.to_dict(), indent=2) + "\n" == path.read_text(encoding="utf-8")


def test_a_level_section_missing_a_field_is_refused() -> None:
    data = json.loads((LEVELS_DIR / "cartpole-medium.json").read_text())
    del data["level"]["normalised_score"]
    with pytest.raises(CardError, match=r"level section misses \['normalised_score'\]"):
        ExpertCard.from_dict(data, "card.json")
    data["level"]["normalised_score"] = "half"
    with pytest.raises(CardError, match="field level.normalised_score must be a finite number"):
        ExpertCard.from_dict(data, "card.json")


def test_collect_with_a_medium_key_records_level_and_reference_scores(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cartpole-medium"
    assert main(["collect", "cartpole-medium", "--episodes", "3", "--seed", "5",
                 "--out", str(out)]) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    expert, reference = metadata["expert"], metadata["reference"]
    assert (expert["id"], expert["level"], expert["expert"]) == ("cartpole-medium", "medium",
                                                                 "cartpole")
    assert reference["expert_return_mean"] == 500.0 == expert["expert_return_mean"]
    assert reference["ref_max_score"] == 500.0
    assert reference["ref_min_score"] == expert["random_return_mean"]
    mean = reference["dataset_return_mean"]
    assert math.isclose(reference["normalized_score"],
                        100 * (mean - reference["ref_min_score"]) / (500.0 - reference[
                            "ref_min_score"]))
    # a curated expert's dataset is unchanged: no level, no reference scores
    curated = tmp_path / "cartpole"
    assert main(["collect", "cartpole", "--episodes", "2", "--out", str(curated)]) == 0
    plain = json.loads((curated / "metadata.json").read_text())
    assert "level" not in plain["expert"] and "normalized_score" not in plain["reference"]


def test_the_level_rule_keeps_the_checkpoint_closest_to_half_inside_the_band(
        tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    from imitation_zoo.levels import LEVELS as RULES
    from imitation_zoo.levels import LevelCheckpoint, References
    from imitation_zoo.recipe import load_recipe
    from imitation_zoo.selection import NO_BEST

    references = References(expert=500.0, random=20.0)  # score = (R - 20) / 480
    keeper = LevelCheckpoint(load_recipe("cartpole"), tmp_path, "digest", {}, NO_BEST,
                             level=RULES["medium"], references=references)
    kept = None
    for mean in (10.0, 100.0, 160.0, 300.0, 270.0, 255.0, 280.0, 255.0):  # scores: .., .17,
        if keeper.better(mean, 0.0):                         # .29, .58, .52, .49, .54, .49 again
            keeper.best, kept = (mean, 0.0), mean
        assert not keeper.stop_reached(mean)
    assert kept == 255.0 and keeper.best == (255.0, 0.0)  # in the band, closest to .5
    assert keeper.stop_reached(400.0)  # .79 > 2/3: training stops
    outside = LevelCheckpoint(load_recipe("cartpole"), tmp_path, "digest", {}, NO_BEST,
                              level=RULES["medium"], references=references)
    for mean in (50.0, 150.0):  # never inside the band: the closest to .5 is kept
        if outside.better(mean, 0.0):
            outside.best = (mean, 0.0)
    assert outside.best[0] == 150.0
    assert not outside.better(500.0, 0.0) or outside.distance(500.0) < outside.distance(150.0)


def test_evaluate_remeasures_a_level_card(tmp_path: Path) -> None:
    from imitation_zoo.evaluate import EvaluateOptions, remeasure

    assert EvaluateOptions(("cartpole-medium",)).cards() == [LEVELS_DIR / "cartpole-medium.json"]
    old, new = remeasure(LEVELS_DIR / "cartpole-medium.json")
    assert new == old  # the card's numbers are what its command measures


def test_the_card_command_reproduces_the_cartpole_medium_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m imitation_zoo.levels cartpole --level medium`` (about 5,000 PPO steps), in a
    process started with the benchmark cells' environment and a correctly rounded Adam: the same
    weights on every CPU (an Intel Xeon with AVX-512, ``qemu-x86_64 -cpu Nehalem``).

    Training leaves nothing in the temporary directory (SB3's default logger makes a folder there).
    """
    pytest.importorskip("stable_baselines3")
    from imitation_zoo.levels import main as levels_main

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setenv("TMPDIR", str(temporary))  # the training process's temporary directory

    shipped = ExpertCard.from_file(LEVELS_DIR / "cartpole-medium.json")
    arguments = shipped.training["recipe"].split()[3:]
    assert levels_main([*arguments, "--out", str(tmp_path / "zoo"),
                        "--scratch", str(tmp_path / "scratch")]) == 0
    again = ExpertCard.from_file(tmp_path / "zoo" / "cartpole-medium.json")
    assert again.weights_sha256 == shipped.weights_sha256
    assert again.evaluation == shipped.evaluation
    assert dataclasses.replace(again, training=shipped.training) == shipped
    assert not list(temporary.glob("SB3-*"))
