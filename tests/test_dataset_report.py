"""The dataset report: a self-contained page, clips, and a replay audit that catches tampering."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imitation_datasets.cli import main
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.sources import load_source
from imitation_datasets.quality.replay import render_blocker, replay_env_id, replay_episode
from imitation_datasets.quality.report import ReportOptions, dataset_report

IMAGE = re.compile(r'src="data:(image/(?:png|gif));base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "cartpole"
    assert main(["collect", "cartpole", "--episodes", "6", "--workers", "1", "--seed", "3",
                 "--quiet", "--out", str(out)]) == 0
    return out


def test_report_is_one_self_contained_page(cartpole: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(cartpole), "--clips", "2", "--frames", "6", "--audit", "6",
                 "--sample-size", "600"]) == 0
    out = cartpole.with_name("cartpole-report.html")
    assert f"wrote {out}" in capsys.readouterr().out
    text = out.read_text()
    for heading in ("Provenance", "Quality", "Plots", "Clips and replay check", "Episodes"):
        assert f"<h2>{heading}</h2>" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from a network
    assert "<link" not in text
    images = IMAGE.findall(text)
    kinds = [kind for kind, _ in images]
    assert kinds.count("image/png") == 3 and kinds.count("image/gif") == 2
    for kind, data in images:
        raw = base64.b64decode(data)
        assert raw.startswith(b"\x89PNG" if kind == "image/png" else b"GIF89a")
    body = text.split('<table id="episodes">')[1].split("</table>")[0]
    assert body.count("<tr") == 1 + 6  # header + one row per episode
    assert body.count(">same<") == 6   # every episode was replayed and matched
    assert "All 6 replayed episodes reproduce their stored observations" in text
    metrics = json.loads(re.search(r'id="quality-metrics">(.*?)</script>', text).group(1))
    assert metrics["episodes"] == 6 and metrics["expert"]["action_divergence"] == 0.0
    assert (cartpole / "metadata.json").exists() and not (cartpole / "report.html").exists()


def test_replay_catches_a_tampered_action(cartpole: Path, tmp_path: Path) -> None:
    loaded = load_source(cartpole)
    env_id, kwargs = replay_env_id(loaded.metadata)
    assert replay_episode(loaded.arrays, 2, env_id, kwargs).matches
    row = int(loaded.arrays.starts[2]) + 40
    loaded.arrays.actions[row] = 1 - loaded.arrays.actions[row]
    replay = replay_episode(loaded.arrays, 2, env_id, kwargs)
    assert not replay.matches and replay.first_mismatch == 41
    assert "after step 40" in replay.detail
    result = dataset_report(LoadedData(loaded.arrays, loaded.metadata, "tampered"),
                            tmp_path / "r.html", ReportOptions(clips=1, frames=2, audit=6))
    assert result.mismatches == [2]
    assert "1 of 6 replayed episodes differ" in (tmp_path / "r.html").read_text()


def test_cli_report_fails_on_a_tampered_file(cartpole: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "tampered"
    copy.mkdir()
    for item in cartpole.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    table = pq.read_table(copy / "steps.parquet")
    actions = table.column("action").to_numpy().copy()
    actions[700] = 1 - actions[700]  # episode 1, step 200
    table = table.set_column(table.schema.get_field_index("action"), "action",
                             pa.array(actions, type=pa.int64()))
    pq.write_table(table, copy / "steps.parquet")
    assert main(["report", str(copy), "--out", str(tmp_path / "t.html"), "--clips", "0",
                 "--audit", "6", "--sample-size", "500"]) == 1
    assert "replay differs from the stored data for episodes 1" in capsys.readouterr().err


def test_mujoco_without_offscreen_gl_gets_a_clear_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUJOCO_GL", raising=False)
    assert "MUJOCO_GL=egl" in (render_blocker("Hopper-v5") or "")
    assert render_blocker("CartPole-v1") is None
    monkeypatch.setenv("MUJOCO_GL", "egl")
    assert render_blocker("Hopper-v5") is None


def test_box2d_episodes_replay_and_render(tmp_path: Path) -> None:
    pytest.importorskip("Box2D")
    out = tmp_path / "lunar"
    assert main(["collect", "lunarlander", "--episodes", "2", "--workers", "1", "--seed", "0",
                 "--quiet", "--out", str(out)]) == 0
    loaded = load_source(out)
    env_id, kwargs = replay_env_id(loaded.metadata)
    replay = replay_episode(loaded.arrays, 1, env_id, kwargs, frames=4, width=200)
    assert replay.matches, replay.detail
    assert len(replay.frames) == 4 and replay.frames[0][1].shape[1] <= 300
    assert len({f.tobytes() for _, f in replay.frames}) == 4  # the lander moves
    assert np.asarray(replay.frames[0][1]).dtype == np.uint8


def test_mujoco_episodes_replay_exactly_and_render_with_egl(tmp_path: Path) -> None:
    pytest.importorskip("mujoco")
    out = tmp_path / "pendulum"
    assert main(["collect", "invertedpendulum", "--episodes", "2", "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    env = {**os.environ, "MUJOCO_GL": "egl"}
    probe = subprocess.run(
        [sys.executable, "-c", "import gymnasium as gym; e = gym.make('InvertedPendulum-v5', "
         "render_mode='rgb_array'); e.reset(seed=0); assert e.render().shape[2] == 3"],
        env=env, capture_output=True, timeout=120)
    if probe.returncode:
        pytest.skip("no EGL offscreen rendering on this machine")
    page = tmp_path / "r.html"
    done = subprocess.run([sys.executable, "-m", "imitation_datasets", "report", str(out),
                           "--out", str(page), "--clips", "1", "--frames", "3", "--audit", "2",
                           "--sample-size", "500"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    kinds = [kind for kind, _ in IMAGE.findall(page.read_text())]
    assert kinds.count("image/gif") == 1
    assert "All 2 replayed episodes reproduce" in page.read_text()


def test_pixel_datasets_get_episode_checks_and_a_reward_replay(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    assert main(["collect", "cartpole", "--pixels", "--size", "32,48", "--episodes", "2",
                 "--workers", "1", "--quiet", "--out", str(out)]) == 0
    result = dataset_report(out, tmp_path / "frames.html", ReportOptions(clips=1, frames=2,
                                                                         audit=2))
    assert result.mismatches == [] and len(result.replayed) == 2
    text = result.path.read_text()
    assert "state metrics skipped" in text and "observations are frames: not compared" in text
    assert [kind for kind, _ in IMAGE.findall(text)].count("image/png") == 2  # no state PCA
