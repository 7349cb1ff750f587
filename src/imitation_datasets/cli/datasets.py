"""``il-datasets info``, ``export`` and ``push``: inspect, convert and upload a dataset.

``export FORMAT PATH``: ``npz`` (``teacher.npz``, the original layout), ``hf`` (a hub folder:
Parquet + ``metadata.json`` + dataset card; or one ``.parquet``/``.jsonl`` file), ``minari``
(a Minari dataset in ``MINARI_DATASETS_PATH``), ``imitation`` (the trajectories folder
``imitation.data.serialize.load`` reads). ``export-npz`` is the older spelling of
``export npz``. ``push PATH REPO_ID`` uploads the hub folder to the HuggingFace hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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


ExportFormat = Literal["npz", "hf", "minari", "imitation"]


@dataclass(frozen=True)
class ExportAnyOptions:
    """Options of ``il-datasets export``."""

    format: ExportFormat = field(metadata={
        "help": "npz (teacher.npz, original layout), hf (hub folder, or a .parquet/.jsonl "
                "file), minari (Minari dataset), imitation (imitation's trajectories folder)"})
    path: Path = field(metadata={"help": "anything BaselineDataset reads (a dataset folder...)"})
    out: Path | None = field(default=None, metadata={
        "help": "npz: file or existing folder (default: <path>/teacher.npz); hf: folder or "
                ".parquet/.jsonl file (default: <path>-hf); imitation: folder (default: "
                "<path>-imitation); minari: unused"})
    id: str | None = field(default=None, metadata={
        "help": "minari: the dataset id, (namespace/)(env/)name-v<N>, e.g. "
                "il-datasets/cartpole/expert-v0 (required)"})
    data_format: Literal["hdf5", "arrow"] = field(default="hdf5", metadata={
        "help": "minari: Minari's storage (hdf5 is Minari's default and what TorchRL reads)"})
    overwrite: bool = field(default=False, metadata={
        "help": "replace an existing hf/imitation output folder"})

    def __post_init__(self) -> None:
        if self.format == "minari" and not self.id:
            raise ConfigError("export minari needs --id, e.g. --id il-datasets/cartpole/expert-v0")


@dataclass(frozen=True)
class PushOptions:
    """Options of ``il-datasets push``."""

    path: Path = field(metadata={"help": "anything BaselineDataset reads (a dataset folder...)"})
    repo_id: str = field(metadata={"help": "the hub dataset repo, e.g. user/cartpole-expert"})
    split: str = field(default="train", metadata={"help": "the split the data file is named for"})
    private: bool = field(default=False, metadata={"help": "create the repo private"})
    revision: str | None = field(default=None, metadata={
        "help": "branch to push to (default: the repo's main branch)"})


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
        f"random return {_fmt((meta.get('reference') or {}).get('random_return_mean', '-'))}",
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


def export_out(options: ExportAnyOptions) -> Path | None:
    """What ``export`` writes (``None`` for Minari, which writes into its own folder)."""
    if options.format == "npz":
        return export_target(ExportOptions(options.path, options.out))
    if options.format == "minari":
        return None
    return options.out or options.path.with_name(f"{options.path.name}-{options.format}")


def _expert_return(metadata: dict[str, Any] | None) -> float | None:
    """The curated expert's return for a dataset without one (random): Minari's max score."""
    from imitation_datasets.experts.curated import load_zoo

    meta = metadata or {}
    if (meta.get("reference") or {}).get("expert_return_mean") is not None:
        return None
    env_id = (meta.get("env") or {}).get("id")
    returns = [e.card.evaluation.return_mean for e in load_zoo() if e.env_id == env_id]
    return returns[0] if returns else None


OUTPUT_MARKERS = {"hf": ("README.md", "data"), "imitation": ("dataset_info.json", "state.json")}
"""Files an ``export`` output folder holds: only such a folder is replaced with --overwrite."""


def _clear_output(options: ExportAnyOptions, out: Path) -> None:
    """Refuse an existing ``out`` unless --overwrite; then remove it if it is an export's."""
    if not out.exists():
        if not out.parent.is_dir():
            raise ConfigError(f"{out.parent}: no such directory (the folder of --out must exist)")
        return
    if not options.overwrite:
        raise ConfigError(f"{out}: exists; pass --overwrite to replace it")
    if out.is_symlink():
        raise ConfigError(f"{out}: is a link; refusing to replace what it points to, choose "
                          "another --out")
    if out.is_dir():
        if not all((out / name).exists() for name in OUTPUT_MARKERS[options.format]):
            raise ConfigError(f"{out}: not a folder 'export {options.format}' wrote; "
                              "refusing to replace it, choose another --out")
        import shutil

        shutil.rmtree(out)


def run_export(options: ExportAnyOptions, argv: Sequence[str] = ()) -> int:
    """Write a dataset in another format; prints what was written."""
    from imitation_datasets.data.sources import load_source

    if options.format == "npz":
        return run_export_npz(ExportOptions(options.path, options.out))
    out = export_out(options)
    if out is None:  # Minari: its own datasets folder; an existing id is refused by to_minari
        from imitation_datasets.data.minari_export import to_minari

        assert options.id is not None
        loaded = load_source(options.path)
        dataset = to_minari(loaded, options.id, data_format=options.data_format,
                            expert_return=_expert_return(loaded.metadata))
        print(f"wrote Minari dataset {options.id} ({options.data_format}, "
              f"{dataset.total_episodes} episodes)")
        return 0
    _clear_output(options, out)
    loaded = load_source(options.path)
    if options.format == "hf":
        from imitation_datasets.data.hub_folder import HubLayout

        print(f"wrote {HubLayout().write(loaded, out)}")
    else:
        from imitation_datasets.data.interop_imitation import to_imitation

        print(f"wrote {to_imitation(loaded, out)}")
    return 0


def run_push(options: PushOptions, argv: Sequence[str] = ()) -> int:
    """Upload a dataset to the HuggingFace hub as a hub folder."""
    from imitation_datasets.data.huggingface import push_to_hub

    info = push_to_hub(str(options.path), options.repo_id, split=options.split,
                       private=options.private or None, revision=options.revision)
    print(f"pushed {options.path} to {getattr(info, 'commit_url', None) or options.repo_id}")
    return 0


INFO = Command("info", "summarise a dataset directory", (Options(InfoOptions),), run_info,
               target=lambda options: options.path)
EXPORT_NPZ = Command("export-npz", "write a dataset as teacher.npz (original layout)",
                     (Options(ExportOptions),), run_export_npz, target=export_target)
EXPORT = Command("export", "write a dataset as npz, a HuggingFace hub folder, Minari or imitation "
                 "trajectories", (Options(ExportAnyOptions),), run_export, target=export_out)
PUSH = Command("push", "upload a dataset to the HuggingFace hub (a dataset repo)",
               (Options(PushOptions),), run_push, target=lambda options: options.path)
