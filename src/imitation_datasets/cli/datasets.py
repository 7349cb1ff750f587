"""``il-datasets info`` and ``il-datasets export-npz``: inspect and convert a dataset folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.core.errors import ConfigError


@dataclass(frozen=True)
class InfoOptions:
    """Options of ``il-datasets info``."""

    path: Path = field(metadata={"help": "a dataset folder"})


@dataclass(frozen=True)
class ExportOptions:
    """Options of ``il-datasets export-npz``."""

    path: Path = field(metadata={"help": "a dataset folder"})
    out: Path | None = field(default=None, metadata={
        "help": "file to write, or an existing folder to write teacher.npz into "
                "(default: <path>/teacher.npz)"})


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


def run_info(options: InfoOptions, argv: Sequence[str] = ()) -> int:
    """Print the summary of a dataset."""
    print(describe(options.path))
    return 0


def export_target(options: ExportOptions) -> Path:
    """The ``teacher.npz`` file ``export-npz`` writes."""
    if options.out is None:
        return options.path / "teacher.npz"
    return options.out / "teacher.npz" if options.out.is_dir() else options.out


def run_export_npz(options: ExportOptions, argv: Sequence[str] = ()) -> int:
    """Export a dataset to teacher.npz: exactly the keys of the original's baseline_collate."""
    from imitation_datasets.collect.functions import teacher_columns, write_npz
    from imitation_datasets.data.parquet import read_parquet

    out = export_target(options)
    if not out.parent.is_dir():
        raise ConfigError(f"{out.parent}: no such directory (the folder of --out must exist)")
    arrays, _ = read_parquet(options.path)
    print(f"wrote {write_npz(out, teacher_columns(arrays, 'baseline'))}")
    return 0


INFO = Command("info", "summarise a dataset directory", (Options(InfoOptions),), run_info,
               target=lambda options: options.path)
EXPORT_NPZ = Command("export-npz", "write a dataset as teacher.npz (original layout)",
                     (Options(ExportOptions),), run_export_npz, target=export_target)
