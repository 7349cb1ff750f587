"""``il-datasets datasets`` and ``il-datasets get KEY``: the catalogue of canonical datasets.

``datasets`` lists every curated expert's canonical datasets (``train``: the expert,
``random``: random actions; 1000 episodes, dataset seed 0) with steps, size, fingerprint and
the extra the environment needs; ``--verify`` regenerates them (``--keys`` to choose) in a
temporary folder and checks every committed fingerprint (exit status 1 on a mismatch).
``get KEY`` puts one in ``--out`` from a local folder, the hub cache or by regenerating it, and
says whether its fingerprint matches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.cli.errors import fail


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

    key: str = field(metadata={"help": "a catalogue key (il-datasets datasets lists them)"})
    split: Literal["train", "random"] = field(default="train", metadata={
        "help": "train (the curated expert) or random (random actions)"})
    out: Path | None = field(default=None, metadata={
        "help": "dataset folder (default: $IL_DATASETS_CACHE or "
                "~/.cache/imitation_datasets/catalogue, /<key>-<split>)"})
    workers: int = field(default=1, metadata={"help": "worker processes when regenerating"})


def catalogue_table(keys: Sequence[str] = (), markdown: bool = False) -> str:
    """One row per canonical dataset."""
    from imitation_datasets.catalogue.entries import CATALOGUE, SPLITS
    from imitation_datasets.catalogue.get import entry
    from imitation_datasets.core.extras import env_extra

    header = ["key", "split", "env", "expert", "episodes", "steps", "MiB", "fingerprint",
              "extra"]
    rows = []
    for key in keys or list(CATALOGUE):
        item = entry(key)
        extra = env_extra(item.env_id)
        for name in SPLITS:
            split = item.split(name)
            rows.append([key, name, item.env_id, key if name == "train" else "random",
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
    from imitation_datasets.catalogue.entries import CATALOGUE, SPLITS
    from imitation_datasets.catalogue.get import FingerprintMismatch, check, entry, regenerate
    from imitation_datasets.data.sources import load_source

    failures = 0
    with tempfile.TemporaryDirectory(prefix="il-datasets-catalogue-") as tmp:
        for key in options.keys or list(CATALOGUE):
            for split in SPLITS:
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
        got = get_dataset(options.key, options.split, options.out, workers=options.workers)
    except FingerprintMismatch as exc:
        return fail(exc, 1)
    print(got.describe())
    return 0


DATASETS = Command("datasets", "list the catalogue of canonical datasets (--verify regenerates "
                   "and checks them)", (Options(DatasetsOptions),), run_datasets)
GET = Command("get", "get a canonical dataset (local folder, hub cache or regenerated), "
              "fingerprint verified", (Options(GetOptions),), run_get,
              target=lambda options: options.out)
