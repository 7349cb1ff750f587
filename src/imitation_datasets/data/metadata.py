"""``metadata.json``: what a dataset is, where it came from, and how to reproduce it."""

from __future__ import annotations

import json
import math
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import (
    FORMAT_NAME,
    METADATA_FILE,
    SCHEMA_VERSION,
    DatasetFormatError,
    json_number,
)

REQUIRED_KEYS = ("format", "schema_version", "env", "expert", "collection", "acceptance",
                 "episodes", "returns", "reference", "total_steps", "versions", "creation")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape the recorded data."""
    versions = {"python": platform.python_version()}
    for package in ("imitation-datasets", "numpy", "gymnasium", "pyarrow", "mujoco", "box2d"):
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def _stats(values: np.ndarray) -> dict[str, Any]:
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {
        "mean": json_number(values.mean()),
        "std": json_number(values.std()),
        "min": json_number(values.min()),
        "max": json_number(values.max()),
    }


def build_metadata(
    arrays: DatasetArrays,
    *,
    env: dict[str, Any],
    expert: dict[str, Any],
    collection: dict[str, Any],
    acceptance: dict[str, Any],
    reference: dict[str, Any],
    creation: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the metadata of a dataset (deterministic: no clocks, no host names).

    Args:
        arrays: the dataset (per-episode seeds, returns and lengths are taken from it).
        env: ``{"id", "kwargs", "spec", "observation_space", "action_space"}``.
        expert: provenance of the policy (id, algo, weights hash, card returns).
        collection: dataset seed, threshold, retry bound, enjoy function, seed rule.
        acceptance: attempts, accepted, rejected, failed attempts, rejected returns.
        reference: ``random_return`` and ``expert_return`` used by the performance metric.
        creation: the command (or API call) that created the dataset.
    """
    returns = arrays.returns
    return {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "env": env,
        "expert": expert,
        "collection": collection,
        "acceptance": acceptance,
        "episodes": {
            "count": arrays.n_episodes,
            "seed": arrays.seeds.tolist(),
            "return": [json_number(r) for r in returns],
            "length": arrays.lengths.tolist(),
            "attempts": arrays.attempts.tolist(),
            "terminated": int(arrays.terminated.sum()),
            "truncated": int(arrays.truncated.sum()),
        },
        "returns": _stats(returns),
        "reference": reference,
        "total_steps": arrays.n_steps,
        "versions": library_versions(),
        "creation": creation,
    }


def write_metadata(directory: str | Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata.json`` atomically."""
    from imitation_datasets.collect.staging import atomic_write_text

    atomic_write_text(Path(directory) / METADATA_FILE,
                      json.dumps(metadata, indent=1, sort_keys=False, allow_nan=False) + "\n")


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` of a dataset directory."""
    path = Path(directory) / METADATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: missing (not a dataset directory?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetFormatError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise DatasetFormatError(f"{path}: not an {FORMAT_NAME} metadata file")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise DatasetFormatError(
            f"{path}: schema_version {data.get('schema_version')} is not supported "
            f"(this library reads {SCHEMA_VERSION})"
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise DatasetFormatError(f"{path}: missing key(s) {missing}")
    return data


def number(value: Any) -> float:
    """Read back a value written by :func:`json_number`."""
    return math.nan if value is None else float(value)
