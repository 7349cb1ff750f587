"""Hyperparameters as data: ``methods/config/<method>.yaml``.

Each file has a ``default`` section plus per-environment overrides keyed by Gymnasium id.

The ``default`` section is also the schema: a key that is not in it is refused, and a value must
have the type of its default (an integer is accepted where a float is expected). Files are read
with ``yaml.safe_load``; nothing in them is evaluated.
"""

from __future__ import annotations

import copy
import difflib
import functools
from pathlib import Path
from typing import Any

import yaml

from imitation_datasets.core.names import unknown

CONFIG_DIR = Path(__file__).with_name("config")


class ConfigError(ValueError):
    """A method configuration has an unknown key or a value of the wrong type."""


@functools.cache
def _read(method: str) -> dict[str, Any]:
    path = CONFIG_DIR / f"{method}.yaml"
    if not path.is_file():
        names = [p.stem for p in CONFIG_DIR.glob("*.yaml")]
        raise unknown("method", method, names)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("default"), dict):
        raise ConfigError(f"{path}: needs a mapping with a 'default' section")
    for env_id, values in data.items():
        if values is not None and not isinstance(values, dict):
            raise ConfigError(f"{path}: section {env_id!r} must be a mapping")
        _check(method, data["default"], values or {}, f"{path.name} [{env_id}]")
    return data


def defaults(method: str) -> dict[str, Any]:
    """The ``default`` section of a method's YAML file (a fresh copy)."""
    return copy.deepcopy(_read(method)["default"])


def env_overrides(method: str) -> dict[str, dict[str, Any]]:
    """Per-environment sections of a method's YAML file, keyed by Gymnasium id."""
    return {k: copy.deepcopy(v or {}) for k, v in _read(method).items() if k != "default"}


def load_config(method: str, env_id: str | None = None) -> dict[str, Any]:
    """A method's full configuration for ``env_id``: its defaults merged with that env's section.

    Raises:
        UnknownNameError: no such method.
        ConfigError: the YAML file has unknown keys or wrongly typed values.
    """
    data = _read(method)
    config = defaults(method)
    if env_id is not None:
        config.update(copy.deepcopy(data.get(env_id) or {}))
    return config


def resolve(method: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """``config`` merged over the method's defaults, after checking keys and types.

    Raises:
        ConfigError: an unknown key (the message names the closest known keys) or a value of
            the wrong type.
    """
    base = defaults(method)
    given = dict(config or {})
    _check(method, base, given, f"{method} config")
    for key, value in given.items():
        base[key] = float(value) if isinstance(base[key], float) and value is not None else value
    return base


def _check(method: str, schema: dict[str, Any], values: dict[str, Any], where: str) -> None:
    for key, value in values.items():
        if key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else \
                f"; known keys: {', '.join(sorted(schema))}"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        expected = schema[key]
        if not _same_type(expected, value):
            raise ConfigError(f"{where}: {key!r} must be {type(expected).__name__}, "
                              f"got {value!r}")


def _same_type(expected: Any, value: Any) -> bool:
    if expected is None or value is None:
        return True
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, (int, float))
    if isinstance(expected, int):
        return isinstance(value, int)
    if isinstance(expected, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(expected))
