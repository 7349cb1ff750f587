"""The README's results blocks are what the committed results JSON gives (no typed numbers)."""

import json
import shutil
from pathlib import Path

import pytest

from imitation_datasets.benchmark.readme_blocks import ReadmeBlockError, render_blocks
from imitation_datasets.benchmark.report import ReportFormatError

ROOT = Path(__file__).parent.parent


def test_the_readme_blocks_match_the_committed_results():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count("<!-- results ") >= 4  # the classic and MuJoCo tables and targets
    assert render_blocks(text, ROOT) == text, \
        "README results blocks are stale: run python benchmarks/readme_results.py"


def test_a_block_is_regenerated_from_its_folder(tmp_path):
    shutil.copytree(ROOT / "results_mujoco", tmp_path / "res",
                    ignore=shutil.ignore_patterns("cells", "probes", "*.png", "*.html"))
    text = "intro\n<!-- results res iqm -->\nold numbers\n<!-- end results -->\nafter\n"
    fresh = render_blocks(text, tmp_path)
    assert "old numbers" not in fresh and fresh.startswith("intro\n") and \
        fresh.endswith("<!-- end results -->\nafter\n")
    assert "| Method | Hopper-v5 |" in fresh
    assert render_blocks(fresh, tmp_path) == fresh
    results = json.loads((tmp_path / "res" / "benchmark_results.json").read_text())
    gail = results["summary"]["hopper"]["gail"]["performance"]
    assert f"{gail['iqm']:.3f} [{gail['ci_low']:.3f}, {gail['ci_high']:.3f}]" in fresh
    seeds = render_blocks("<!-- results res seeds-gail -->\n<!-- end results -->", tmp_path)
    hopper = sorted((c for c in results["cells"] if c["method"] == "gail"
                     and c["env"] == "hopper" and c.get("demos") == 25), key=lambda c: c["seed"])
    assert "| 25 demonstrations | " + (
        f"{sum(c['performance'] for c in hopper) / len(hopper):.3f} ("
        + ", ".join(f"{c['performance']:.3f}" for c in hopper) + ")") in seeds
    with pytest.raises(ReadmeBlockError, match="no 'nomethod' cells"):
        render_blocks("<!-- results res seeds-nomethod -->\n<!-- end results -->", tmp_path)
    demos = render_blocks("<!-- results res demos-hopper -->\n<!-- end results -->", tmp_path)
    counts = sorted({c["demos"] for c in results["cells"] if c["env"] == "hopper"})
    assert "| Method | " + " | ".join(str(n) for n in counts) + " |" in demos
    one = [c["performance"] for c in results["cells"] if c["method"] == "gail"
           and c["env"] == "hopper" and c.get("demos") == 1]
    assert f"| GAIL | {sum(one) / len(one):.3f} [" in demos and f"({len(one)}) |" in demos
    plan = render_blocks("<!-- results res plan -->\n<!-- end results -->", tmp_path)
    progress = results["progress"]
    assert f"{progress['finished']} of {progress['planned']} cells finished" in plan
    gail_counts = progress["by_method"]["gail"]
    assert "| GAIL | " + " | ".join(
        f"{gail_counts[n][0]} / {gail_counts[n][1]}" if n in gail_counts else "–"
        for n in ("1", "5", "25", "100")) + " |" in plan
    with pytest.raises(ReadmeBlockError, match="no sample-efficiency curve for env 'mars'"):
        render_blocks("<!-- results res demos-mars -->\n<!-- end results -->", tmp_path)
    # the derived keys are recomputed from the cells: stale or hostile ones change nothing
    (tmp_path / "res" / "benchmark_results.json").write_text(json.dumps(
        {**results, "summary": "garbage", "sample_efficiency": {"hopper": 3}}))
    assert render_blocks(fresh + demos, tmp_path) == fresh + demos
    del results["cells"]
    (tmp_path / "res" / "benchmark_results.json").write_text(json.dumps(results))
    with pytest.raises(ReportFormatError, match="results.cells: missing"):
        render_blocks(text, tmp_path)


@pytest.mark.parametrize("block, message", [
    ("<!-- results results pie -->\n<!-- end results -->", "unknown kind 'pie'"),
    ("<!-- results .. matrix -->\n<!-- end results -->", "no benchmark_results.json"),
    ("<!-- results nowhere matrix -->\n<!-- end results -->", "folder 'nowhere'"),
    ("<!-- results results/../results matrix -->\n<!-- end results -->", "no benchmark_"),
    ("<!-- results results//probes/x2 matrix -->\n<!-- end results -->", "no benchmark_"),
    ("<!-- results results_mujoco/probes/x2 plan -->\n<!-- end results -->", "no planned grid"),
])
def test_bad_blocks_get_one_line_errors(block, message):
    with pytest.raises(ReadmeBlockError, match=message):
        render_blocks(block, ROOT)


def test_a_block_may_read_a_folder_under_a_results_folder():
    block = render_blocks("<!-- results results_mujoco/probes/x2 seeds-gail -->\n"
                          "<!-- end results -->", ROOT)
    assert block.startswith("<!-- results results_mujoco/probes/x2 seeds-gail -->\n| GAIL |")
