"""Hyperparameters as data: ``methods/config/<method>.yaml`` read into a method's typed config.

Each method declares a frozen dataclass deriving from :class:`MethodConfig` (``BCConfig``,
``BCOConfig``, ...; a subclass redeclares only what differs). Its YAML file has a ``default``
section (the benchmark's settings; the dataclass defaults hold the same values) plus sections
named by Gymnasium id that override fields for that environment. Every section is checked when
the file is first read (:func:`imitation_datasets.core.config.from_mapping`: unknown keys with
did-you-mean, types, value ranges); a method without a YAML file gets its dataclass defaults.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, cast

from imitation_datasets.core.config import from_mapping, read_yaml, with_overrides
from imitation_datasets.core.errors import ConfigError

CONFIG_DIR = Path(__file__).with_name("config")

C = TypeVar("C")


@dataclass(frozen=True)
class MethodConfig:
    """Settings every method has: its networks, its optimiser and model selection.

    Attributes:
        hidden: hidden layer widths of the MLP body (after the attention block for ABCO).
        activation: activation of the hidden layers.
        continuous_loss: ``"mse"`` on the mean, or the Gaussian negative log-likelihood.
        lr: Adam learning rate of the policy.
        weight_decay: Adam weight decay.
        batch_size: minibatch size.
        eval_every: validate (and maybe keep the weights) every this many policy epochs.
        eval_episodes: validation seeds used (``None``: all the task gives).
        selection_tolerance: see :mod:`.selection`.
    """

    hidden: tuple[int, ...] = (64, 64)
    activation: Literal["relu", "tanh", "gelu"] = "relu"
    continuous_loss: Literal["mse", "gaussian"] = "mse"
    lr: float = 0.001
    weight_decay: float = 0.0
    batch_size: int = 256
    eval_every: int = 5
    eval_episodes: int | None = 10
    selection_tolerance: float = 0.02

    budget_fields: ClassVar[tuple[str, ...]] = ()
    """The integer fields that set how much training the method gets (epochs, iterations,
    environment steps): what :func:`scale_budget` multiplies."""

    def __post_init__(self) -> None:
        require_at_least(self, {"batch_size": 1, "eval_every": 1})


def scale_budget(config: C, scale: float) -> C:
    """``config`` with its :attr:`~MethodConfig.budget_fields` times ``scale`` (rounded, >= 1).

    A budget probe, not the protocol (a probed cell records its ``budget_scale``).

    Raises:
        ConfigError: ``scale`` is not positive, or the config declares no budget fields.
    """
    if not scale > 0:
        raise ConfigError(f"budget scale must be > 0, got {scale!r}")
    fields = getattr(config, "budget_fields", ())
    if not fields:
        raise ConfigError(f"{type(config).__name__}: declares no budget_fields to scale")
    return dataclasses.replace(config, **{  # type: ignore[type-var]
        name: max(1, round(getattr(config, name) * scale)) for name in fields})


def require_at_least(config: Any, lowest: dict[str, float]) -> None:
    """Refuse ``config`` when a field named in ``lowest`` is below its lowest allowed value.

    Raises:
        ConfigError: one line naming the config class, the field, the bound and the value.
    """
    for key, low in lowest.items():
        value = getattr(config, key)
        if value < low:
            raise ConfigError(f"{type(config).__name__}: {key!r} must be >= {low}, got {value}")


def config_file(name: str) -> Path:
    """Where method ``name``'s hyperparameters live."""
    return CONFIG_DIR / f"{name}.yaml"


@functools.cache
def _sections(config_class: Any, name: str) -> dict[str | None, Any]:
    """Every section of ``name``'s YAML as a config (``None``: the default section), checked."""
    path = config_file(name)
    if not path.is_file():
        return {None: config_class()}
    data = read_yaml(path)
    if not isinstance(data.get("default"), dict):
        raise ConfigError(f"{path}: needs a mapping with a 'default' section")
    default: Any = from_mapping(config_class, data["default"], f"{path.name} [default]")
    sections: dict[str | None, Any] = {None: default}
    for env_id, values in data.items():
        if env_id == "default":
            continue
        if values is not None and not isinstance(values, dict):
            raise ConfigError(f"{path}: section {env_id!r} must be a mapping")
        sections[str(env_id)] = with_overrides(default, values, f"{path.name} [{env_id}]")
    return sections


def method_config(config_class: type[C], name: str, env_id: str | None = None) -> C:
    """Method ``name``'s configuration for ``env_id``: the YAML defaults with that env's section.

    Raises:
        ConfigError: the YAML file has unknown keys or wrongly typed values.
    """
    sections = _sections(cast(Hashable, config_class), name)
    config: C = sections.get(env_id, sections[None])
    return config


def resolve(config_class: type[C], name: str, config: C | Mapping[str, Any] | None) -> C:
    """A method's configuration from what its constructor was given.

    A ``config_class`` instance is used as it is; a mapping overrides the YAML defaults field
    by field; ``None`` gives the YAML defaults.

    Raises:
        ConfigError: a config of another method, an unknown key (the message names the closest
            known keys) or a value of the wrong type.
    """
    if type(config) is config_class:
        return config
    if config is not None and not isinstance(config, Mapping):
        raise ConfigError(f"{name} config: expected a {config_class.__name__} or a mapping, "
                          f"got {type(config).__name__}")
    return with_overrides(method_config(config_class, name), config, f"{name} config")
