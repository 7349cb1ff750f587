"""``il-datasets``: the command-line entry point, one subcommand per job.

Subcommands::

    il-datasets experts [--markdown]
    il-datasets collect ENV --episodes N --workers W --seed S --out DIR [--threshold X] [--random]
                        [--backend local|ray [--address ADDR]] [--step-timeout SECONDS]
    il-datasets info DIR
    il-datasets export npz|hf|minari|imitation PATH [--out OUT] [--id MINARI_ID] [--overwrite]
    il-datasets push PATH REPO_ID [--private] [--split train] [--revision BRANCH]
    il-datasets push KEY --repo ORG/NAME [--splits train,random,medium] [--token T]
    il-datasets export-npz DIR [--out FILE_OR_DIR]            (= export npz)
    il-datasets benchmark --methods bc,bco,abco,iupe --envs cartpole,... --seeds 5 --out results/
    il-datasets benchmark-report results/benchmark_results.json

Each subcommand's arguments are generated from a frozen options dataclass
(:mod:`imitation_datasets.cli.arguments`), so ``--help`` shows every default. User errors
(unknown names, bad arguments, unreadable datasets, and a path that cannot be read or written:
permission denied, full disk, name too long, a file where a folder is expected) print one line,
``il-datasets: error: <path>: <reason>``, and exit with status 2; what was already staged is kept
and the same command resumes once the cause is gone. A collection that cannot finish (an episode
never reaches the threshold, a worker hangs past ``--step-timeout``) and a failed leakage check
exit with status 1; Ctrl-C exits with status 130 and keeps what was staged. Progress and
diagnostics go through :mod:`logging` (stderr), results to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence

from imitation_datasets import __version__
from imitation_datasets.cli.arguments import Command
from imitation_datasets.cli.arguments import build_parser as build
from imitation_datasets.cli.benchmark import BENCHMARK, BENCHMARK_COMPARE, BENCHMARK_REPORT
from imitation_datasets.cli.catalogue import DATASETS, GET, PUSH
from imitation_datasets.cli.collect import COLLECT
from imitation_datasets.cli.datasets import EXPORT, EXPORT_NPZ, INFO
from imitation_datasets.cli.errors import fail, path_error
from imitation_datasets.cli.experts import EXPERTS
from imitation_datasets.cli.quality import QUALITY
from imitation_datasets.cli.report import REPORT
from imitation_datasets.core.errors import ImitationDatasetsError

COMMANDS: dict[str, Command] = {c.name: c for c in (
    EXPERTS, COLLECT, INFO, EXPORT, PUSH, BENCHMARK, BENCHMARK_REPORT, BENCHMARK_COMPARE,
    EXPORT_NPZ, QUALITY, REPORT, DATASETS, GET)}
"""Every subcommand, by name."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = build("il-datasets", "Create, inspect and convert imitation-learning datasets.",
                   list(COMMANDS.values()))
    parser.add_argument("--version", action="version", version=f"il-datasets {__version__}")
    return parser


@contextlib.contextmanager
def logging_to_stderr(quiet: bool) -> Iterator[None]:
    """Send the package's log records to stderr as ``il-datasets: <message>`` while a command runs.

    ``quiet`` (``--quiet``) keeps warnings and errors only. The handler is removed afterwards, so
    ``main`` called again (or from tests) never writes to a stream that has been replaced.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("il-datasets: %(message)s"))
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    logger = logging.getLogger("imitation_datasets")
    level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (bad arguments exit with status 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    command = COMMANDS[args.command]
    try:
        options = command.build(args)
    except ImitationDatasetsError as exc:  # a rule between two options
        return fail(exc)
    quiet = not all(getattr(o, "progress", True) for o in options)
    try:
        with logging_to_stderr(quiet):
            return command.run(*options, argv=argv)
    except (ImitationDatasetsError, ValueError) as exc:
        return fail(exc)
    except OSError as exc:
        message = path_error(exc, command.target(*options))
        if message is None:
            raise
        return fail(message)
    except KeyboardInterrupt:
        return fail("interrupted; rerun the same command to resume", 130, kind="")


if __name__ == "__main__":
    sys.exit(main())
