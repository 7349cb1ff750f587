"""Open the results page in a real headless browser: a screenshot, and checks of what it shows.

Usage: ``python benchmarks/results_page.py [RESULTS_DIR] [--screenshot docs/results_page.png]``
(default ``results``). Needs Chromium (``apt install chromium``) or Google Chrome. It loads
``RESULTS_DIR/index.html`` from disk, checks that the browser rendered one row per (environment,
method) of the JSON, sorts the table by performance through the page's own script and checks
the order, then writes the screenshot.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars")


def browser() -> str:
    """The first headless-capable browser on PATH."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    sys.exit("results_page.py: no Chromium/Chrome on PATH (apt install chromium)")


def dom(page: Path, fragment: str = "") -> str:
    """The page's DOM after its scripts ran."""
    url = page.resolve().as_uri() + fragment
    done = subprocess.run([browser(), *FLAGS, "--virtual-time-budget=3000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=Path("results"))
    parser.add_argument("--screenshot", type=Path, default=Path("docs/results_page.png"))
    args = parser.parse_args()
    page = args.results / "index.html"
    results = json.loads((args.results / "benchmark_results.json").read_text())
    expected = sum(len(methods) for methods in results["summary"].values())

    first_table = dom(page).split("</table>")[0]
    rows = first_table.count("<tr>") - 1  # minus the header row
    print(f"rendered rows: {rows} (JSON: {expected} env x method pairs)")
    assert rows == expected, "the page does not show every (environment, method) of the JSON"

    sorted_table = dom(page, "#sort=Performance").split("</table>")[0]
    row = r"<tr><td>[^<]*</td><td>[^<]*</td><td data-v=\"([^\"]+)\""
    values = [float(v) for v in re.findall(row, sorted_table)]
    print(f"sorted by performance in the browser: first {values[:3]}, last {values[-3:]}")
    assert values == sorted(values), "the page's sort did not order the rows"

    args.screenshot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser(), *FLAGS, "--window-size=1280,1400",
                    f"--screenshot={args.screenshot.resolve()}", page.resolve().as_uri()],
                   capture_output=True, timeout=120, check=True)
    print(f"screenshot: {args.screenshot} ({args.screenshot.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
