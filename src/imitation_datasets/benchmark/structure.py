"""The structure of benchmark result files, and the check that names their first wrong field.

A cell file (``<out>/cells/.../seed*.json``), an env facts file (``<out>/envs/<env>.json``) and a
published ``benchmark_results.json`` are read back by the report, the targets, the plots and the
README blocks. Each is checked against the specs here as it is read, so a truncated, edited or
hostile file stops with one line naming the file and the field
(:class:`ReportFormatError`), never with a traceback from deep inside the report.

A spec is a Python type (``str``, ``int``, ``bool``), :class:`Number`, a dict of specs (an
object with those keys; more keys are allowed), :class:`Optional` (the key may be absent or
null) or :class:`Each` (every value of an object, or every item of a list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.json_values import is_int, is_number
from imitation_datasets.core.safe_read import read_json


class ReportFormatError(OneLineError, ValueError):
    """A benchmark results file does not have the structure the report is made from."""


class Number:
    """An int or float (not a bool)."""


@dataclass(frozen=True)
class Optional:
    """The key may be absent or null; otherwise its value follows ``spec``."""

    spec: Any


@dataclass(frozen=True)
class Each:
    """Every value of an object (``mapping=True``) or every item of a list follows ``spec``."""

    spec: Any
    mapping: bool = True


FACTS_STRUCTURE: dict[str, Any] = {
    "env_id": str, "expert_return": Number, "random_return": Number,
    "expert_test_return": Optional(Number),
    "leakage": {"passed": bool, "test_seeds": int, "training_start_states": int,
                "min_distance": Number},
}
"""An environment's facts (``<out>/envs/<env>.json``) as the report reads them."""

CELL_STRUCTURE: dict[str, Any] = {
    "env": str, "method": str, "seed": int, "demos": Optional(int), "aer": Number,
    "performance": Number, "env_steps": Optional(int),
    "accuracy": Optional(Number), "train_seconds": Number,
    "test_seconds": Optional(Number), "train_cpu_seconds": Optional(Number),
    "test_cpu_seconds": Optional(Number), "budget_scale": Optional(Number),
    "arithmetic": Optional(int),
    "config_overrides": Optional(Each(object)),
    "log": {"records": Optional(Each({"epoch": Number, "validation_performance": Number},
                                     mapping=False))},
}
"""A finished cell (``<out>/cells/.../seed*.json``) as the report, targets and plots read it."""


def _type_name(spec: Any) -> str:
    if isinstance(spec, dict) or (isinstance(spec, Each) and spec.mapping):
        return "an object"
    if isinstance(spec, Each) or spec is list:
        return "a list"
    return {Number: "a number", str: "a string", bool: "true or false", int: "an integer",
            object: "a value"}[spec]


def _matches(value: Any, spec: Any) -> bool:
    if isinstance(spec, dict) or (isinstance(spec, Each) and spec.mapping):
        return isinstance(value, dict)
    if isinstance(spec, Each):
        return isinstance(value, list)
    if spec is Number:
        return is_number(value)
    if spec is int:
        return is_int(value)
    return isinstance(value, spec)


def check_structure(value: Any, spec: Any, where: str) -> None:
    """Raise :class:`ReportFormatError` naming the first field of ``value`` not like ``spec``."""
    if not _matches(value, spec):
        raise ReportFormatError(f"{where}: expected {_type_name(spec)}, got "
                                f"{json.dumps(value)[:40]}")
    if isinstance(spec, dict):
        for key, sub in spec.items():
            if isinstance(sub, Optional):
                if value.get(key) is not None:
                    check_structure(value[key], sub.spec, f"{where}.{key}")
            elif key not in value:
                raise ReportFormatError(f"{where}.{key}: missing")
            else:
                check_structure(value[key], sub, f"{where}.{key}")
    elif isinstance(spec, Each):
        items = value.items() if spec.mapping else enumerate(value)
        for key, item in items:
            check_structure(item, spec.spec, f"{where}.{key}" if spec.mapping else
                            f"{where}[{key}]")


def checked(value: Any, spec: Any, origin: str) -> Any:
    """``value`` (parsed from the file ``origin``) once it follows ``spec``.

    Raises:
        ReportFormatError: ``"<origin>: <field>: <problem>"`` for the first wrong field.
    """
    try:
        check_structure(value, spec, "")
    except ReportFormatError as exc:
        field, _, problem = str(exc).partition(": ")
        raise ReportFormatError(f"{origin}: {field.lstrip('.') or 'top level'}: {problem}"
                                ) from None
    return value


def read_checked(path: str | Path, spec: Any) -> Any:
    """The JSON file ``path``, parsed and checked against ``spec`` (:func:`checked`).

    Raises:
        DatasetFormatError: the file is missing, too large or not JSON.
        ReportFormatError: ``"<path>: <field>: <problem>"`` for the first wrong field.
    """
    return checked(read_json(path), spec, str(path))
