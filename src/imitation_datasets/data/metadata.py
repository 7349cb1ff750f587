"""``metadata.json``: what a dataset is, where it came from, and how to reproduce it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.json_values import is_int, is_number, short_repr
from imitation_datasets.core.safe_read import read_json
from imitation_datasets.core.versions import library_versions
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import (
    FORMAT_NAME,
    METADATA_FILE,
    SCHEMA_VERSION,
    json_number,
    space_from_dict,
)

REQUIRED_KEYS = ("format", "schema_version", "env", "expert", "collection", "acceptance",
                 "episodes", "returns", "reference", "total_steps", "versions", "creation")


VERSIONED = ("imitation-datasets", "numpy", "gymnasium", "pyarrow", "mujoco", "box2d")
"""The libraries whose versions shape the recorded data (``versions`` in ``metadata.json``)."""


@dataclass(frozen=True)
class ReturnStats:
    """``returns`` of ``metadata.json``: mean, std, min and max of the episode returns.

    Values are :func:`~imitation_datasets.data.schema.json_number` (``"inf"``/``"nan"`` as
    strings); all ``None`` for no episodes.
    """

    mean: float | str | None
    std: float | str | None
    min: float | str | None
    max: float | str | None

    @classmethod
    def of(cls, returns: np.ndarray) -> ReturnStats:
        """The statistics of ``returns`` (float64)."""
        values = np.asarray(returns, dtype=np.float64)
        if values.size == 0:
            return cls(None, None, None, None)
        with np.errstate(invalid="ignore", over="ignore"):  # inf rewards give a NaN std
            std = values.std()
        return cls(json_number(values.mean()), json_number(std), json_number(values.min()),
                   json_number(values.max()))

    def to_json(self) -> dict[str, Any]:
        """The JSON object, keys in the written order."""
        return {"mean": self.mean, "std": self.std, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class EpisodeSummary:
    """``episodes`` of ``metadata.json``: per-episode lists and the counts of how they ended."""

    count: int
    seed: tuple[int, ...]
    returns: tuple[float | str, ...]
    length: tuple[int, ...]
    attempts: tuple[int, ...]
    terminated: int
    truncated: int

    @classmethod
    def of(cls, arrays: DatasetArrays) -> EpisodeSummary:
        """The summary of ``arrays``' episodes."""
        return cls(count=arrays.n_episodes, seed=tuple(arrays.seeds.tolist()),
                   returns=tuple(json_number(r) for r in arrays.returns),
                   length=tuple(arrays.lengths.tolist()),
                   attempts=tuple(arrays.attempts.tolist()),
                   terminated=int(arrays.terminated.sum()), truncated=int(arrays.truncated.sum()))

    def to_json(self) -> dict[str, Any]:
        """The JSON object, keys in the written order (``return`` is a keyword in Python)."""
        return {"count": self.count, "seed": list(self.seed), "return": list(self.returns),
                "length": list(self.length), "attempts": list(self.attempts),
                "terminated": self.terminated, "truncated": self.truncated}


@dataclass(frozen=True)
class DatasetMetadata:
    """The record written as ``metadata.json`` (deterministic: no clocks, no host names).

    The sections this library computes are typed (:class:`EpisodeSummary`, :class:`ReturnStats`);
    the provenance sections (``env``, ``expert``, ``collection``, ``acceptance``, ``reference``,
    ``creation``) are JSON objects whose content depends on where the data came from (a
    Controller run, a collate call, a Minari import) and are written as given.
    :meth:`to_json` gives the same object, key for key and in the same order, as the dicts written
    before these records existed, so the same dataset still gets the same bytes.
    """

    env: Mapping[str, Any]
    expert: Mapping[str, Any]
    collection: Mapping[str, Any]
    acceptance: Mapping[str, Any]
    episodes: EpisodeSummary
    returns: ReturnStats
    reference: Mapping[str, Any]
    total_steps: int
    versions: Mapping[str, str]
    creation: Mapping[str, Any]
    format: str = FORMAT_NAME
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> dict[str, Any]:
        """The ``metadata.json`` object (keys in :data:`REQUIRED_KEYS` order)."""
        return {
            "format": self.format,
            "schema_version": self.schema_version,
            "env": self.env,
            "expert": self.expert,
            "collection": self.collection,
            "acceptance": self.acceptance,
            "episodes": self.episodes.to_json(),
            "returns": self.returns.to_json(),
            "reference": self.reference,
            "total_steps": self.total_steps,
            "versions": self.versions,
            "creation": self.creation,
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
    """The ``metadata.json`` object of a dataset (a :class:`DatasetMetadata` as JSON).

    Args:
        arrays: the dataset (per-episode seeds, returns and lengths are taken from it).
        env: ``{"id", "kwargs", "spec", "observation_space", "action_space"}``.
        expert: provenance of the policy (id, algo, weights hash, card returns).
        collection: dataset seed, threshold, retry bound, enjoy function, seed rule.
        acceptance: attempts, accepted, rejected, failed attempts, rejected returns.
        reference: ``random_return`` and ``expert_return`` used by the performance metric.
        creation: the command (or API call) that created the dataset.
    """
    return DatasetMetadata(
        env=env, expert=expert, collection=collection, acceptance=acceptance,
        episodes=EpisodeSummary.of(arrays), returns=ReturnStats.of(arrays.returns),
        reference=reference, total_steps=arrays.n_steps,
        versions=library_versions(VERSIONED), creation=creation,
    ).to_json()


def write_metadata(directory: str | Path, metadata: dict[str, Any]) -> None:
    """Write ``metadata.json`` atomically."""
    atomic_write_text(Path(directory) / METADATA_FILE,
                      json.dumps(metadata, indent=1, sort_keys=False, allow_nan=False) + "\n")


def our_metadata(directory: str | Path) -> dict[str, Any] | None:
    """``directory/metadata.json`` when it is ours (checked); ``None`` when absent or foreign."""
    path = Path(directory) / METADATA_FILE
    if not path.exists():
        return None
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        return None
    return read_metadata(directory)


def checked_metadata(data: Any, origin: str) -> dict[str, Any] | None:
    """``data`` if it is our metadata (checked as :func:`read_metadata` checks a file), else None.

    For metadata that travels inside another file (a ``datasets`` description, Minari's
    metadata): something that is not ours is ignored; something that claims to be ours must have
    every required key and field types.

    Raises:
        DatasetFormatError: ours, but a key is missing or a field has the wrong type.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        return None
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise DatasetFormatError(f"{origin}: our metadata without key(s) {missing}")
    check_fields(data, origin)
    return data


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """Read and check ``metadata.json`` of a dataset directory.

    The file must be a regular file of at most ``safe_read.MAX_JSON_BYTES``; every field this
    library reads must have the type :func:`build_metadata` writes (see :func:`check_fields`).
    Whether the metadata agrees with the data files is checked by the readers
    (:func:`check_against_data`).

    Raises:
        DatasetFormatError: one line naming the file and the problem.
    """
    path = Path(directory) / METADATA_FILE
    data = read_json(path, missing="missing (not a dataset directory?)")
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise DatasetFormatError(f"{path}: not an {FORMAT_NAME} metadata file")
    version = data.get("schema_version")
    if not is_int(version) or version != SCHEMA_VERSION:
        raise DatasetFormatError(
            f"{path}: schema_version {version!r} ({type(version).__name__}) is not supported; "
            f"this library reads the integer {SCHEMA_VERSION}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise DatasetFormatError(f"{path}: missing key(s) {missing}")
    check_fields(data, str(path))
    return data


def _is_json_number(value: Any) -> bool:
    """A value :func:`json_number` writes: a number, ``None`` or ``"nan"``/``"inf"``/``"-inf"``."""
    return value is None or value in ("nan", "inf", "-inf") or is_number(value)


_CHECKS = {"int": (is_int, "an integer"), "number": (_is_json_number, "a number"),
           "object": (lambda v: isinstance(v, dict), "an object"),
           "text": (lambda v: v is None or isinstance(v, str), "a string or null")}
_TOP = {"env": "object", "expert": "object", "collection": "object", "acceptance": "object",
        "episodes": "object", "returns": "object", "reference": "object", "total_steps": "int",
        "versions": "object", "creation": "object"}
_NESTED = {
    "episodes": {"count": "int", "terminated": "int", "truncated": "int"},
    "returns": {"mean": "number", "std": "number", "min": "number", "max": "number"},
    "acceptance": {"attempts": "int", "accepted": "int", "errors": "int",
                   "acceptance_rate": "number"},
    "env": {"id": "text"},
    "expert": {"algo": "text", "weights_sha256": "text"},
}
_LISTS = {"seed": "int", "length": "int", "attempts": "int", "return": "number"}


def _check(value: Any, kind: str, field: str, origin: str) -> None:
    test, name = _CHECKS[kind]
    if not test(value):
        raise DatasetFormatError(
            f"{origin}: field {field} must be {name}, got {type(value).__name__} "
            f"{short_repr(value, 40)}")


def check_fields(data: dict[str, Any], origin: str) -> None:
    """Refuse a metadata field (that this library reads) of the wrong type, naming it.

    Required top-level fields must be present; nested ones are checked when present.
    """
    for key, kind in _TOP.items():
        _check(data[key], kind, key, origin)
    for section, fields in _NESTED.items():
        for key, kind in fields.items():
            if key in data[section]:
                _check(data[section][key], kind, f"{section}.{key}", origin)
    episodes = data["episodes"]
    for key, kind in _LISTS.items():
        if key not in episodes:
            continue
        values = episodes[key]
        if not isinstance(values, list):
            raise DatasetFormatError(f"{origin}: field episodes.{key} must be a list, got "
                                     f"{type(values).__name__}")
        for index, value in enumerate(values):
            _check(value, kind, f"episodes.{key}[{index}]", origin)
    for key in ("observation_space", "action_space"):
        if data["env"].get(key):
            space_from_dict(data["env"][key], f"{origin}: field env.{key}")


def check_against_data(metadata: dict[str, Any], arrays: DatasetArrays, origin: str) -> None:
    """Refuse metadata whose counts, per-episode records or return statistics lie.

    Checks (each when present): ``total_steps``, ``episodes.count``/``length``/``seed``/
    ``attempts``/``return``/``terminated``/``truncated`` and ``returns`` (mean, std, min, max;
    relative tolerance 1e-6, as they are recomputed from float64 rewards). Cost: ``O(episodes)``
    plus one pass over the rewards.

    Raises:
        DatasetFormatError: naming ``origin`` and the first field that disagrees.
    """
    check_records(metadata, EpisodeRecords(
        n_steps=arrays.n_steps, lengths=arrays.lengths, seeds=arrays.seeds,
        attempts=arrays.attempts, returns=arrays.returns, terminated=int(arrays.terminated.sum()),
        truncated=int(arrays.truncated.sum())), origin)


@dataclass
class EpisodeRecords:
    """What the metadata summarises, as found in the data (see :func:`check_records`)."""

    n_steps: int
    lengths: np.ndarray
    seeds: np.ndarray
    attempts: np.ndarray
    returns: np.ndarray
    terminated: int
    truncated: int


def check_records(metadata: dict[str, Any], records: EpisodeRecords, origin: str) -> None:
    """:func:`check_against_data` on the per-episode records alone (no step arrays needed)."""
    if metadata.get("format") != FORMAT_NAME:
        return
    episodes = metadata.get("episodes") or {}
    exact = {
        "total_steps": (metadata.get("total_steps"), records.n_steps),
        "episodes.count": (episodes.get("count"), len(records.lengths)),
        "episodes.terminated": (episodes.get("terminated"), records.terminated),
        "episodes.truncated": (episodes.get("truncated"), records.truncated),
    }
    for field, (stated, actual) in exact.items():
        if stated is not None and stated != actual:
            raise DatasetFormatError(f"{origin}: metadata says {field} = {stated!r}, the data "
                                     f"has {actual}")
    for key, values in (("length", records.lengths), ("seed", records.seeds),
                        ("attempts", records.attempts)):
        listed = episodes.get(key)
        if listed is not None and (len(listed) != len(values) or
                                   not np.array_equal(np.asarray(listed), values)):
            raise DatasetFormatError(f"{origin}: metadata episodes.{key} disagrees with the data")
    _check_returns(metadata, records.returns, origin)


def _check_returns(metadata: dict[str, Any], returns: np.ndarray, origin: str) -> None:
    stated = (metadata.get("episodes") or {}).get("return")
    if stated is not None and (len(stated) != len(returns) or not _close(
            np.array([_number(v) for v in stated]), returns)):
        raise DatasetFormatError(f"{origin}: metadata episodes.return disagrees with the sum "
                                 "of the rewards")
    summary = ReturnStats.of(returns).to_json()
    for key, value in (metadata.get("returns") or {}).items():
        if key in summary and not _close(np.array([_number(value)]),
                                         np.array([_number(summary[key])])):
            raise DatasetFormatError(f"{origin}: metadata returns.{key} = {value!r}, the "
                                     f"rewards give {summary[key]!r}")


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))


def _number(value: Any) -> float:
    """A value written by :func:`json_number` read back as a float (``None`` is NaN)."""
    return math.nan if value is None else float(value)
