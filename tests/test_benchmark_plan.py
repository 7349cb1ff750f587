"""The planned grids and the published anchors in the report: nothing unrun is hidden."""

import pytest

from imitation_datasets.benchmark.anchors import anchor_lines, anchor_sources, anchors
from imitation_datasets.benchmark.plan import grids, planned_cells, progress, progress_lines
from imitation_datasets.core.errors import ConfigError

FACTS = {"hopper": {"env_id": "Hopper-v5", "expert_return": 3500.0,
                    "protocol": {"train_episodes": 100}},
         "cheetah": {"env_id": "HalfCheetah-v5", "expert_return": 5000.0,
                     "protocol": {"train_episodes": 100}}}


def cell(method, env, seed, demos, performance, aer=1000.0):
    return {"method": method, "env": env, "seed": seed, "demos": demos,
            "performance": performance, "aer": aer}


def test_the_continuous_grid_is_the_issues_plan():
    mujoco = planned_cells(["mujoco"])
    assert len(mujoco) == 6 * 9 * 4 * 5 + 5 * 8 * 2 * 5  # offline everywhere, online on 8 envs
    assert ("bc", "humanoid", 1, 4) in mujoco and ("gail", "humanoid", 1, 0) not in mujoco
    assert ("iq_learn_online", "hopper", 25, 4) in mujoco
    assert len(planned_cells(["classic"])) == 11 * 6 * 5 + 11 * 4 * 4 * 5
    assert set(grids()) == {"classic", "mujoco", "box2d"}


def test_progress_counts_every_planned_cell_that_did_not_run():
    cells = [cell("bc", "hopper", s, 25, 1.0) for s in range(5)]
    cells.append(cell("bc", "hopper", 9, 25, 1.0))  # outside the plan: not counted
    p = progress(cells, FACTS)
    assert p["families"] == ["mujoco"]
    assert p["by_method"]["bc"]["25"] == [5, 9 * 5] and p["by_method"]["gail"]["1"] == [0, 40]
    assert p["finished"] == 5 and p["planned"] == len(planned_cells(["mujoco"]))
    text = "\n".join(progress_lines({"progress": p}))
    assert "5 of 1480 cells finished" in text and "| GAIL | 0 / 40 | – | 0 / 40 | – |" in text


def test_anchors_put_published_numbers_beside_ours_on_their_scale():
    cells = [cell("bc", "hopper", s, 25, p, aer=3300.0) for s, p in enumerate((0.9, 1.0, 1.1))]
    cells += [cell("iq_learn_online", "hopper", 0, 1, 0.5, aer=1750.0)]
    rows = {(r["source"], r["method"], r["env"]): r for r in anchors(cells, FACTS)}
    bc = rows[("imitation-v1", "bc", "hopper")]
    assert bc["ours"]["mean"] == pytest.approx(1.0) and bc["seeds"] == [0, 1, 2]
    assert bc["at_least"] is False  # 1.0 < imitation's 1.003
    iq = rows[("iq-learn-2021", "iq_learn_online", "hopper")]
    assert iq["ours"]["mean"] == pytest.approx(0.5)  # 1750 / 3500: their fraction of expert
    assert rows[("imitation-v1", "dagger", "cheetah")]["ours"] is None  # planned, not run
    assert ("imitation-v1", "bc", "ant") not in rows  # ant is not in this folder
    gail = rows[("gail-2016", "bc", "hopper")]
    assert gail["ours"]["mean"] == pytest.approx(3300.0) and gail["their_expert"] == 3571.4
    text = "\n".join(anchor_lines({"anchors": list(rows.values()), "envs": FACTS}))
    assert "not a replication" in text
    assert "| DAGGER | HalfCheetah-v5 | 1.017 | not run | 0 | – |" in text
    assert anchor_lines({"anchors": [], "envs": FACTS}) == []


def test_a_return_source_needs_its_experts_returns(tmp_path):
    bad = tmp_path / "anchors.yaml"
    bad.write_text("sources:\n  x: {title: t, setting: s, metric: return, demos: 1,\n"
                   "      scores: {bc: {hopper: 1.0}}}\n")
    with pytest.raises(ConfigError, match=r"\[sources.x\]: no expert_returns for \['hopper'\]"):
        anchor_sources(bad)
    bad.write_text("sources:\n  x: {title: t, setting: s, metric: ratio, demos: 1, scores: {}}\n")
    with pytest.raises(ConfigError, match="metric"):
        anchor_sources(bad)


def test_every_planned_cell_has_an_environment_and_a_config_written_for_its_grid():
    from imitation_datasets.benchmark.method_specs import method_spec
    from imitation_datasets.benchmark.protocol import env_families, env_protocol
    from imitation_datasets.methods import load_config

    continuous = set(env_families()["mujoco"] + env_families()["box2d"])
    for method, env, demos, _ in set(planned_cells(list(grids()))):
        protocol = env_protocol(env)
        assert 1 <= demos <= protocol.train_episodes
        config = method_spec(method).config_mapping(protocol.env_id)
        if env in continuous:  # a continuous-grid section, not the classic defaults
            assert config != method_spec(method).config_mapping("__default__"), (method, env)
    assert load_config("gail", "Hopper-v5").total_steps == 1_000_000
