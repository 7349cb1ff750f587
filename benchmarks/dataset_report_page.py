"""Open a dataset report in a real headless browser: checks of what it shows, and a screenshot.

Usage: ``python benchmarks/dataset_report_page.py [DATASET] [--screenshot FILE]`` (default
``docs/dataset_report.png``).
Without ``DATASET`` it collects 50 LunarLander expert episodes (dataset seed 0, needs the
``[box2d]`` extra) into a temporary folder. It writes the report with ``il-datasets report``,
loads the page from disk in headless Chromium (``apt install chromium``), checks that the
browser rendered one table row per episode, every plot and clip (decoded, with a size), and the
replay verdict, then writes the screenshot.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_page import FLAGS, browser  # noqa: E402 - the sibling script's browser helpers

from imitation_datasets.cli import main as il_datasets  # noqa: E402
from imitation_datasets.data.sources import load_source  # noqa: E402


def render(page: Path, screenshot: Path | None = None) -> str:
    """The DOM after scripts ran; with ``screenshot``, also a 1200 px wide PNG of the page."""
    url = page.resolve().as_uri()
    common = [browser(), *FLAGS, "--virtual-time-budget=3000"]
    if screenshot is not None:
        subprocess.run([*common, "--window-size=1200,2700", f"--screenshot={screenshot}", url],
                       capture_output=True, timeout=120, check=True)
    return subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True,
                          timeout=120, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path)
    parser.add_argument("--screenshot", type=Path, default=Path("docs/dataset_report.png"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset
        if dataset is None:
            dataset = Path(tmp) / "lunarlander"
            assert il_datasets(["collect", "lunarlander", "--episodes", "50", "--workers", "1",
                                "--seed", "0", "--quiet", "--out", str(dataset)]) == 0
        page = Path(tmp) / "report.html"
        start = time.perf_counter()
        status = il_datasets(["report", str(dataset), "--out", str(page)])
        print(f"report written in {time.perf_counter() - start:.1f} s, "
              f"{page.stat().st_size / 1024:.0f} KiB, exit status {status}")
        episodes = load_source(dataset).arrays.n_episodes
        dom = render(page, args.screenshot)
    table = dom.split('<table id="episodes">')[1].split("</table>")[0]
    rows = table.count("<tr") - 1
    print(f"rendered episode rows: {rows} (dataset: {episodes} episodes)")
    assert rows == episodes, "the page does not list every episode"
    images = re.findall(r'src="data:(image/(?:png|gif));base64,([A-Za-z0-9+/=]+)"', dom)
    sizes = {kind: [len(data) * 3 // 4 for k, data in images if k == kind]
             for kind in ("image/png", "image/gif")}
    print(f"plots: {len(sizes['image/png'])} PNG; clips: {len(sizes['image/gif'])} GIF of "
          f"{', '.join(f'{s / 1024:.0f}' for s in sizes['image/gif'])} KiB")
    assert len(sizes["image/png"]) == 3 and sizes["image/gif"], "plots or clips missing"
    verdict = re.search(r"All \d+ replayed episodes reproduce[^<]*|\d+ of \d+ replayed episodes "
                        r"differ[^<]*", dom)
    print(f"replay check: {verdict.group(0) if verdict else 'missing'}")
    assert verdict and status == 0
    print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
