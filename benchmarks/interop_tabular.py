"""What tabular clients and HuggingFace's formatters give on our Parquet files.

usage: python benchmarks/interop_tabular.py [--env Pendulum-v1] [--episodes 4]

Collects a seeded random-action dataset (dataset seed 0), then prints:
* the largest absolute and relative difference between each episode's sum of ``reward`` computed
  by DuckDB and by polars and the stored float64 ``return`` of ``episodes.parquet``;
* the dtypes HuggingFace's ``numpy`` and ``torch`` formatters give the float64 ``reward`` column,
  by default and with ``dtype=None``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np

from imitation_datasets.cli import main as cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Pendulum-v1")
    parser.add_argument("--episodes", type=int, default=4)
    args = parser.parse_args()
    import datasets
    import duckdb
    import polars as pl

    out = Path(tempfile.mkdtemp()) / "d"
    with contextlib.redirect_stdout(io.StringIO()):  # the dataset summary
        cli(["collect", args.env, "--random", "--episodes", str(args.episodes), "--workers", "1",
             "--seed", "0", "--out", str(out), "--quiet"])
    steps = str(out / "steps.parquet")
    stored = pl.read_parquet(str(out / "episodes.parquet"))["return"].to_numpy()
    sql = np.array([s for (s,) in duckdb.sql(
        f"select sum(reward) from '{steps}' group by episode_index order by episode_index"
    ).fetchall()])
    frame = pl.read_parquet(steps).group_by("episode_index", maintain_order=True)
    polars = frame.agg(pl.col("reward").sum())["reward"].to_numpy()
    for name, sums in (("DuckDB", sql), ("polars", polars)):
        diff = np.abs(sums - stored)
        print(f"{name} sum(reward) vs stored return ({args.env}, returns {stored.min():.1f}.."
              f"{stored.max():.1f}): max abs diff {diff.max():.2g}, max relative "
              f"{(diff / np.abs(stored)).max():.2g}")
    hf = datasets.load_dataset(str(out), "steps", split="train",
                               cache_dir=str(out.parent / "cache"))
    for fmt in ("numpy", "torch"):
        default = hf.with_format(fmt)[:4]["reward"].dtype
        kept = hf.with_format(fmt, dtype=None)[:4]["reward"].dtype
        print(f"HF {fmt} formatter, float64 reward column: {default} by default, {kept} with "
              "dtype=None")


if __name__ == "__main__":
    main()
