"""``il-datasets``: the command-line entry point.

Subcommands::

    il-datasets experts [--markdown]
    il-datasets collect ENV --episodes N --workers W --seed S --out DIR [--threshold X] [--random]
                        [--backend local|ray [--address ADDR]] [--step-timeout SECONDS]
    il-datasets info DIR
    il-datasets export-npz DIR [--out FILE_OR_DIR]
    il-datasets benchmark --methods bc,bco,abco,iupe --envs cartpole,... --seeds 5 --out results/
    il-datasets benchmark-report results/benchmark_results.json

User errors (unknown names, bad arguments, unreadable datasets, and a path that cannot be read
or written: permission denied, full disk, name too long, a file where a folder is expected)
print one line, ``il-datasets: error: <path>: <reason>``, and exit with status 2; what was
already staged is kept and the same command resumes once the cause is gone. A collection that
cannot finish (an episode never reaches the threshold, a worker hangs past ``--step-timeout``)
exits with status 1; Ctrl-C exits with status 130 and keeps what was staged.
"""

from __future__ import annotations

import argparse
import errno
import math
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from imitation_datasets.core.names import UnknownNameError


class UserError(Exception):
    """An error caused by the user's input; printed as one line."""


PATH_ERRNOS = frozenset({
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO,
    errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOENT, errno.ELOOP,
    errno.ENOTEMPTY, errno.EXDEV, errno.EBUSY, errno.ETXTBSY,
})
"""``OSError`` numbers that describe a user's path (reported as one line, exit 2); any other
``OSError`` is a bug and keeps its traceback."""
TEMP_NAME = re.compile(r"^\.(.+)\.\d+\.tmp$")
"""Temporary files are written as ``.<name>.<pid>.tmp`` and renamed; errors name ``<name>``."""
DEFAULT_STEP_TIMEOUT_HELP = 300
"""``Controller``'s default ``step_timeout`` (``collect.worker.DEFAULT_STEP_TIMEOUT``), for --help
without importing the collection code."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _timeout(text: str) -> float:
    if text.strip().lower() in ("none", "off"):
        return math.inf
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds or 'none', got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="il-datasets",
        description="Create, inspect and convert imitation-learning datasets.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    experts = sub.add_parser("experts", help="list the curated experts and their measured returns")
    experts.add_argument("--markdown", action="store_true", help="print a Markdown table")

    collect = sub.add_parser("collect", help="create a dataset with a curated expert")
    collect.add_argument("env", help="expert name or Gymnasium id (e.g. cartpole, CartPole-v1)")
    collect.add_argument("--episodes", type=_positive, default=1000, help="episodes to keep")
    collect.add_argument("--workers", type=_positive, default=1, help="worker processes")
    collect.add_argument("--seed", type=_non_negative, default=0, help="dataset seed")
    collect.add_argument("--out", type=Path, default=None,
                         help="dataset directory (default: ./dataset/<env>)")
    collect.add_argument("--threshold", type=float, default=None,
                         help="minimum episode return (default: the expert's threshold)")
    collect.add_argument("--max-attempts", type=_positive, default=10,
                         help="attempts per episode before giving up (default: 10)")
    collect.add_argument("--random", action="store_true",
                         help="play uniformly random actions (any Gymnasium id works)")
    collect.add_argument("--envs-per-worker", type=_positive, default=None,
                         help="environments stepped together in each worker (default: 4 for "
                              "MuJoCo envs, 16 otherwise; does not change the data)")
    collect.add_argument("--no-npz", action="store_true", help="do not also write teacher.npz")
    collect.add_argument("--overwrite", action="store_true",
                         help="replace a different dataset already in --out (refused otherwise)")
    collect.add_argument("--backend", choices=("local", "ray"), default="local",
                         help="local worker processes (default) or Ray actors")
    collect.add_argument("--address", default=None,
                         help="Ray cluster address (e.g. auto or HOST:6379); default: a local Ray")
    collect.add_argument("--step-timeout", type=_timeout, default=None, metavar="SECONDS",
                         help="stop the run when a worker finishes no episode for this long (an "
                              "env step that never returns); staged episodes are kept "
                              f"(default: {DEFAULT_STEP_TIMEOUT_HELP}; 'none' waits forever)")
    collect.add_argument("--quiet", action="store_true", help="no progress bar")

    info = sub.add_parser("info", help="summarise a dataset directory")
    info.add_argument("path", type=Path)

    bench = sub.add_parser("benchmark", help="train and test IL methods on the protocol's splits")
    bench.add_argument("--methods", default="bc,bco,abco,iupe", help="comma-separated methods")
    bench.add_argument("--envs", default="cartpole,acrobot,mountaincar,lunarlander,pendulum,"
                       "mountaincarcontinuous", help="comma-separated environments")
    bench.add_argument("--seeds", type=_positive, default=5, help="training seeds 0..N-1")
    bench.add_argument("--out", type=Path, default=Path("results"), help="results folder")
    bench.add_argument("--data", type=Path, default=Path("benchmark_data"),
                       help="where the protocol's datasets are created and cached")
    bench.add_argument("--jobs", type=_positive, default=2, help="cells run in parallel")
    bench.add_argument("--backend", choices=("local", "ray"), default="local")
    bench.add_argument("--address", default=None, help="Ray cluster address")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    report = sub.add_parser("benchmark-report",
                            help="regenerate the Markdown table and plots from the JSON")
    report.add_argument("json", type=Path, help="a benchmark_results.json")
    report.add_argument("--out", type=Path, default=None, help="default: the JSON's folder")

    export = sub.add_parser("export-npz", help="write a dataset as teacher.npz (original layout)")
    export.add_argument("path", type=Path)
    export.add_argument("--out", type=Path, default=None,
                        help="file to write, or an existing folder to write teacher.npz into "
                             "(default: <path>/teacher.npz)")
    return parser


def _resolve_expert(name: str, random: bool) -> Any:
    from imitation_datasets.experts.registry import Experts

    try:
        return Experts.get_expert(name)
    except UnknownNameError:
        if not random:
            raise
    import gymnasium as gym

    from imitation_datasets.core.names import unknown
    from imitation_datasets.experts.policy import CallablePolicy

    if name not in gym.registry:
        raise unknown("environment", name, list(gym.registry) + Experts.names())
    return CallablePolicy(lambda obs: None, env_id=name, name="random")


def cmd_collect(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Create a dataset."""
    from imitation_datasets.collect.controller import Controller
    from imitation_datasets.collect.functions import DatasetCollate, baseline_enjoy, random_enjoy

    expert = _resolve_expert(args.env, args.random)
    out = _collect_out(args)
    _check_out_folder(out)
    timeout = {} if args.step_timeout is None else {
        "step_timeout": None if math.isinf(args.step_timeout) else args.step_timeout}
    controller = Controller(
        random_enjoy if args.random else baseline_enjoy,
        DatasetCollate("baseline_collate", npz=not args.no_npz),
        episodes=args.episodes,
        threads=args.workers,
        path=out.parent,
        seed=args.seed,
        threshold=args.threshold,
        max_attempts=args.max_attempts,
        envs_per_worker=args.envs_per_worker,
        progress=not args.quiet,
        expert=expert,
        command="il-datasets " + " ".join(shlex.quote(a) for a in argv),
        backend=args.backend,
        ray_address=args.address, overwrite=args.overwrite,
        **timeout,
    )
    path = controller.start({"game": out.name, "mode": "all"})
    print(f"dataset written to {path}")
    print(describe(path))
    return 0


def _collect_out(args: argparse.Namespace) -> Path:
    return args.out if args.out is not None else Path("dataset") / args.env


def _check_out_folder(out: Path) -> None:
    """Refuse an ``--out`` that is, or lies inside, something other than a folder."""
    for folder in (out, *out.parents):
        if folder.exists():
            if not folder.is_dir():
                raise UserError(f"{folder}: exists and is not a directory (--out {out})")
            return


def _fmt(value: Any) -> str:
    """A number with two decimals; anything else (missing, ``"nan"``) as it is."""
    return f"{value:.2f}" if isinstance(value, (int, float)) else str(value)


def describe(path: Path) -> str:
    """A human-readable summary of a dataset directory, its metadata checked against the data.

    Optional sections (expert, acceptance, reference, creation) may be missing from datasets
    written by a user's own ``collate``; they are shown as ``-``.
    """
    from imitation_datasets.data.parquet import read_verified_metadata

    meta = read_verified_metadata(path)
    episodes, returns = meta["episodes"], meta.get("returns", {})
    expert = meta.get("expert") or {}
    acceptance = meta.get("acceptance") or {}
    collection = meta.get("collection") or {}
    seeds = episodes.get("seed") or ["-"]
    rate = acceptance.get("acceptance_rate")
    lines = [
        f"env           {meta['env']['id']}",
        f"expert        {expert.get('id', expert.get('kind', '-'))}"
        + (f" ({expert.get('algo')}, sha256 {str(expert['weights_sha256'])[:12]})"
           if expert.get("weights_sha256") else ""),
        f"episodes      {episodes['count']}",
        f"steps         {meta['total_steps']} (counts, lengths, seeds and returns verified "
        "against the data files)",
        f"return        {_fmt(returns.get('mean'))} ± {_fmt(returns.get('std'))} "
        f"(min {_fmt(returns.get('min'))}, max {_fmt(returns.get('max'))})",
        f"random return {(meta.get('reference') or {}).get('random_return_mean', '-')}",
        f"seeds         dataset seed {collection.get('dataset_seed', '-')}; episode seeds "
        f"{min(seeds)}..{max(seeds)}",
        f"threshold     {collection.get('threshold', '-')}",
        f"acceptance    {acceptance.get('accepted', '-')}/{acceptance.get('attempts', '-')} "
        f"attempts accepted ({f'{100 * rate:.1f}' if isinstance(rate, (int, float)) else '-'} %), "
        f"{acceptance.get('errors', '-')} errors",
        f"created by    {(meta.get('creation') or {}).get('command', '-')}",
    ]
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Summarise a dataset."""
    print(describe(args.path))
    return 0


def cmd_benchmark(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the benchmark grid and write the report."""
    import time

    from imitation_datasets.benchmark.report import previous_runs, summarise, write_report
    from imitation_datasets.benchmark.runner import run_benchmark

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]
    before = sum(1 for _ in (args.out / "cells").glob("*/*/seed*.json")) \
        if (args.out / "cells").is_dir() else 0
    started = time.perf_counter()
    cells = run_benchmark(methods, envs, args.seeds, args.out, args.data, jobs=args.jobs,
                          backend=args.backend, address=args.address, progress=not args.quiet)
    import json

    facts = {env: json.loads((args.out / "envs" / f"{env}.json").read_text()) for env in
             dict.fromkeys(c["env"] for c in cells)}
    results = summarise(cells, facts, {
        "command": "il-datasets " + " ".join(shlex.quote(a) for a in argv),
        "runs": previous_runs(args.out) + [{
            "wall_seconds": time.perf_counter() - started,
            "cells_run": max(0, sum(1 for _ in (args.out / "cells").glob("*/*/seed*.json"))
                             - before),
            "cells_total": len(cells),
            "jobs": args.jobs,
            "backend": args.backend,
        }],
        "cell_seconds": sum(c["train_seconds"] + c["test_seconds"] for c in cells),
    })
    print(f"report written to {write_report(results, args.out)}")
    return 0


def cmd_benchmark_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Regenerate the report from its JSON."""
    from imitation_datasets.benchmark.report import report_from_json

    print(f"report written to {report_from_json(args.json, args.out)}")
    return 0


def cmd_export_npz(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Export a dataset to teacher.npz."""
    from imitation_datasets.data.npz import export_npz
    from imitation_datasets.data.parquet import read_parquet

    out = _export_out(args)
    if not out.parent.is_dir():
        raise UserError(f"{out.parent}: no such directory (the folder of --out must exist)")
    arrays, _ = read_parquet(args.path)
    print(f"wrote {export_npz(arrays, out)}")
    return 0


def _export_out(args: argparse.Namespace) -> Path:
    if args.out is None:
        return args.path / "teacher.npz"
    return args.out / "teacher.npz" if args.out.is_dir() else args.out


def _target(args: argparse.Namespace) -> Path | None:
    """The path a command writes (or reads), named when an OSError does not say which."""
    if args.command == "collect":
        return _collect_out(args)
    if args.command == "export-npz":
        return _export_out(args)
    if args.command == "benchmark-report":
        return args.out or args.json
    return getattr(args, "out", None) or getattr(args, "path", None)


def path_error(exc: OSError, args: argparse.Namespace) -> str | None:
    """``"<path>: <reason>"`` for an OSError about a user's path; ``None`` for anything else."""
    if exc.errno is None:  # raised by this library with its own message
        return str(exc) if isinstance(exc, FileNotFoundError) else None
    if exc.errno not in PATH_ERRNOS:
        return None
    path = exc.filename if exc.filename is not None else _target(args)
    return f"{_final_name(path)}: {exc.strerror or exc}"


def _final_name(path: Any) -> Any:
    """The file a temporary ``.<name>.<pid>.tmp`` (written, then renamed) stands for."""
    match = TEMP_NAME.match(Path(path).name) if isinstance(path, (str, Path)) else None
    return Path(path).with_name(match.group(1)) if match else path


def expert_table(markdown: bool = False) -> str:
    """Table of the registry with the measured returns from the expert cards."""
    from imitation_datasets.experts.curated import CuratedExpert
    from imitation_datasets.experts.registry import Experts

    header = ["expert", "env", "algo", "return (mean ± std)", "random", "target", "threshold",
              "quality"]
    rows = []
    for key, expert in sorted(Experts.get_register().items()):
        if isinstance(expert, CuratedExpert):
            card, ev = expert.card, expert.card.evaluation
            rows.append([key, card.env_id, card.algo,
                         f"{ev.return_mean:.1f} ± {ev.return_std:.1f}",
                         f"{ev.random_return_mean:.1f}", f"{card.target:g}",
                         f"{card.threshold:g}", card.quality.replace("_", " ")])
        else:
            rows.append([key, getattr(expert, "env_id", "?"), str(getattr(expert, "algo", "?")),
                         "-", "-", "-", f"{getattr(expert, 'threshold', '-')}", "user"])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *rows])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from imitation_datasets.collect.controller import CollectionError
    from imitation_datasets.core.errors import DatasetFormatError

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    handlers = {"collect": cmd_collect, "info": cmd_info, "export-npz": cmd_export_npz,
                "benchmark": cmd_benchmark, "benchmark-report": cmd_benchmark_report}
    try:
        if args.command == "experts":
            print(expert_table(args.markdown))
            return 0
        return handlers[args.command](args, argv)
    except (UnknownNameError, DatasetFormatError, UserError, ValueError) as exc:
        print(f"il-datasets: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        message = path_error(exc, args)
        if message is None:
            raise
        print(f"il-datasets: error: {message}", file=sys.stderr)
        return 2
    except CollectionError as exc:
        print(f"il-datasets: collection stopped: {exc}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        if type(exc).__name__ != "LeakageError":
            raise
        print(f"il-datasets: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("il-datasets: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
