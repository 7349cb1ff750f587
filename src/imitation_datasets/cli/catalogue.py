"""``il-datasets datasets``, ``get KEY``, ``push KEY --repo``: the catalogue of canonical datasets.

``datasets`` lists every curated expert's canonical datasets (``train``: the expert,
``random``: random actions; 1000 episodes, dataset seed 0) with steps, size, fingerprint and
the extra the environment needs; ``--verify`` regenerates them (``--keys`` to choose) in a
temporary folder and checks every committed fingerprint (exit status 1 on a mismatch).
``get KEY`` puts one in ``--out`` from a local folder, the hub cache or by regenerating it, and
says whether its fingerprint matches. ``push KEY --repo ORG/NAME`` uploads the entry's verified
splits and card to a hub repo (``push PATH REPO_ID``, one dataset, stays as it was).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.cli.errors import fail
from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError


@dataclass(frozen=True)
class DatasetsOptions:
    """Options of ``il-datasets datasets``."""

    verify: bool = field(default=False, metadata={
        "help": "regenerate the datasets (in a temporary folder) and check their fingerprints"})
    keys: tuple[str, ...] = field(default=(), metadata={
        "help": "comma-separated keys to list or verify (default: all)"})
    workers: int = field(default=1, metadata={"help": "worker processes when regenerating"})
    markdown: bool = field(default=False, metadata={"help": "print a Markdown table"})


@dataclass(frozen=True)
class GetOptions:
    """Options of ``il-datasets get``."""

    key: str = field(metadata={"help": "a catalogue key (il-datasets datasets lists them; "
                                       "cartpole-medium is cartpole's medium split)"})
    split: Literal["train", "random", "medium"] = field(default="train", metadata={
        "help": "train (the curated expert), random (random actions) or medium (the "
                "<key>-medium expert, where there is one)"})
    out: Path | None = field(default=None, metadata={
        "help": "dataset folder (default: $IL_DATASETS_CACHE or "
                "~/.cache/imitation_datasets/catalogue, /<key>-<split>)"})
    workers: int = field(default=1, metadata={"help": "worker processes when regenerating"})
    repo: str | None = field(default=None, metadata={
        "help": "hub repo to look for in the local hub cache (default: il-datasets/<EnvId>; "
                "a repo made by il-datasets push)"})


@dataclass(frozen=True)
class CataloguePushOptions:
    """Options of ``il-datasets push KEY --repo ORG/NAME`` (a catalogue entry)."""

    key: str
    repo: str
    splits: tuple[str, ...] = ()
    private: bool = False
    revision: str | None = None
    token: str | None = None
    workers: int = 1


def catalogue_table(keys: Sequence[str] = (), markdown: bool = False) -> str:
    """One row per canonical dataset."""
    from imitation_datasets.catalogue.entries import CATALOGUE
    from imitation_datasets.catalogue.get import entry
    from imitation_datasets.core.extras import env_extra
    from imitation_datasets.experts.curated import level_key

    header = ["key", "split", "env", "expert", "episodes", "steps", "MiB", "fingerprint",
              "extra"]
    rows = []
    for key in keys or list(CATALOGUE):
        item = entry(key)
        extra = env_extra(item.env_id)
        for name in item.splits():
            split = item.split(name)
            expert = {"train": key, "random": "random"}.get(name, level_key(key, name))
            rows.append([key, name, item.env_id, expert,
                         str(split.episodes), "-" if split.steps is None else str(split.steps),
                         "-" if split.size_mib is None else f"{split.size_mib:.1f}",
                         split.fingerprint[:16] if split.fingerprint else "(not measured)",
                         f"[{extra}]" if extra else "-"])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
    widths = [max(len(c) for c in column) for column in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *rows])


def run_datasets(options: DatasetsOptions, argv: Sequence[str] = ()) -> int:
    """List the catalogue, or regenerate and verify it."""
    if not options.verify:
        print(catalogue_table(options.keys, options.markdown))
        return 0
    from imitation_datasets.catalogue.entries import CATALOGUE
    from imitation_datasets.catalogue.get import FingerprintMismatch, check, entry, regenerate
    from imitation_datasets.data.sources import load_source

    failures = 0
    with tempfile.TemporaryDirectory(prefix="il-datasets-catalogue-") as tmp:
        for key in options.keys or list(CATALOGUE):
            for split in entry(key).splits():
                if entry(key).split(split).fingerprint is None:
                    print(f"{key} {split}: no fingerprint committed; skipped")
                    continue
                out = regenerate(key, split, Path(tmp) / f"{key}-{split}", options.workers)
                try:
                    found, _ = check(load_source(out), key, split, f"{key} {split}")
                except FingerprintMismatch as exc:
                    failures += 1
                    print(f"{key} {split}: MISMATCH: {exc}")
                else:
                    print(f"{key} {split}: regenerated, fingerprint {found[:16]}... matches")
    return 1 if failures else 0


def run_get(options: GetOptions, argv: Sequence[str] = ()) -> int:
    """Get one canonical dataset, verified."""
    from imitation_datasets.catalogue.get import FingerprintMismatch, get_dataset

    try:
        got = get_dataset(options.key, options.split, options.out, workers=options.workers,
                          repo=options.repo)
    except FingerprintMismatch as exc:
        return fail(exc, 1)
    print(got.describe())
    return 0


def run_catalogue_push(options: CataloguePushOptions) -> int:
    """Upload a catalogue entry's verified splits and card to a hub repo."""
    from imitation_datasets.catalogue.get import FingerprintMismatch
    from imitation_datasets.catalogue.push import push

    try:
        info = push(options.key, options.repo, options.splits, token=options.token,
                    private=options.private or None, revision=options.revision,
                    workers=options.workers)
    except FingerprintMismatch as exc:
        return fail(exc, 1)
    print(f"pushed {options.key} to {getattr(info, 'commit_url', None) or options.repo}")
    return 0


class PushCommand(Command):
    """``il-datasets push``: a dataset path to ``REPO_ID``, or a catalogue key to ``--repo``.

    ``push PATH REPO_ID [--split S]`` uploads one dataset (``cli/datasets.py``);
    ``push KEY --repo ORG/NAME [--splits train,random]`` a catalogue entry, every split verified
    (:mod:`imitation_datasets.catalogue.push`).
    """

    def add_to(self, subparsers: Any) -> None:
        """The push parser: ``SOURCE [REPO_ID]`` and the options of both forms."""
        parser = subparsers.add_parser(self.name, help=self.help, description=self.help)
        parser.add_argument("source", metavar="PATH_OR_KEY", help=(
            "a dataset path (with REPO_ID) or a catalogue key (with --repo)"))
        parser.add_argument("repo_id", nargs="?", default=None, metavar="REPO_ID",
                            help="the hub dataset repo a dataset path is pushed to")
        parser.add_argument("--repo", default=None, metavar="ORG/NAME", help=(
            "the hub dataset repo a catalogue entry is pushed to (splits train, random and, "
            "where there is one, medium; one metadata file per split)"))
        parser.add_argument("--split", default=None, help=(
            "PATH form: the split the data file is named for (default train)"))
        parser.add_argument("--splits", default=None, help=(
            "KEY form: comma-separated splits (default: every split of the entry)"))
        parser.add_argument("--private", action="store_true", help="create the repo private")
        parser.add_argument("--revision", default=None,
                            help="branch to push to (default: the repo's main branch)")
        parser.add_argument("--token", default=None, help=(
            "KEY form: HuggingFace token (default: HF_TOKEN or the one hf auth login saved)"))
        parser.add_argument("--workers", type=int, default=1, help=(
            "KEY form: worker processes when a split is regenerated"))

    def build(self, args: argparse.Namespace) -> list[Any]:
        """``PushOptions`` (PATH REPO_ID) or :class:`CataloguePushOptions` (KEY --repo)."""
        from imitation_datasets.cli.datasets import PushOptions

        if (args.repo is None) == (args.repo_id is None):
            raise ConfigError("push needs either REPO_ID (push PATH REPO_ID) or --repo ORG/NAME "
                              "(push KEY --repo ORG/NAME), not both")
        if args.repo is None:
            if args.splits is not None or args.token is not None:
                raise ConfigError("--splits and --token go with push KEY --repo ORG/NAME")
            return [from_mapping(PushOptions, {
                "path": Path(args.source), "repo_id": args.repo_id,
                "split": args.split or "train", "private": args.private,
                "revision": args.revision}, "il-datasets push")]
        if args.split is not None:
            raise ConfigError("push KEY --repo takes --splits (comma-separated), not --split")
        if args.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {args.workers}")
        splits = tuple(s.strip() for s in (args.splits or "").split(",") if s.strip())
        return [CataloguePushOptions(args.source, args.repo, splits, args.private,
                                     args.revision, args.token, args.workers)]


def run_push_any(options: Any, argv: Sequence[str] = ()) -> int:
    """Run whichever form of ``push`` was given."""
    if isinstance(options, CataloguePushOptions):
        return run_catalogue_push(options)
    from imitation_datasets.cli.datasets import run_push

    return int(run_push(options, argv))


DATASETS = Command("datasets", "list the catalogue of canonical datasets (--verify regenerates "
                   "and checks them)", (Options(DatasetsOptions),), run_datasets)
PUSH = PushCommand("push", "upload a dataset (PATH REPO_ID) or a catalogue entry, every split "
                   "verified (KEY --repo ORG/NAME), to the HuggingFace hub", (), run_push_any,
                   target=lambda options: getattr(options, "path", None))
GET = Command("get", "get a canonical dataset (local folder, hub cache or regenerated), "
              "fingerprint verified", (Options(GetOptions),), run_get,
              target=lambda options: options.out)
