"""CLI start-up: our argparse generator against typer (the ecosystem's choice), best of N runs.

    python benchmarks/cli_startup.py [--runs 10]

Prints the wall time of: ``python -c pass``; importing argparse; importing typer; a minimal
typer app's ``collect --help``; the same app in argparse; ``il-datasets --help`` and
``il-datasets collect --help``. Typer is imported only if installed.
"""

import argparse
import shutil
import subprocess
import sys
import time

TYPER_APP = """
import typer
app = typer.Typer()
@app.command()
def collect(game: str, episodes: int = 1000, workers: int = 1, seed: int = 0):
    pass
app()
"""
ARGPARSE_APP = """
import argparse
parser = argparse.ArgumentParser()
sub = parser.add_subparsers()
collect = sub.add_parser("collect")
collect.add_argument("game")
for name, default in (("--episodes", 1000), ("--workers", 1), ("--seed", 0)):
    collect.add_argument(name, type=int, default=default)
parser.parse_args()
"""


def best(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    py = sys.executable
    rows = [("python -c pass", [py, "-c", "pass"]),
            ("import argparse", [py, "-c", "import argparse"])]
    try:
        import typer  # noqa: F401
        rows += [("import typer", [py, "-c", "import typer"]),
                 ("typer app: collect --help", [py, "-c", TYPER_APP, "collect", "--help"])]
    except ImportError:
        print("typer is not installed: its rows are left out")
    rows += [("argparse app: collect --help", [py, "-c", ARGPARSE_APP, "collect", "--help"])]
    cli = shutil.which("il-datasets")
    if cli:
        rows += [("il-datasets --help", [cli, "--help"]),
                 ("il-datasets collect --help", [cli, "collect", "--help"])]
    for label, command in rows:
        print(f"{label:32s} {best(command, runs):7.1f} ms (best of {runs})")


if __name__ == "__main__":
    main()
