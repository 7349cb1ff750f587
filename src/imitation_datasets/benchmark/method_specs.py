"""Which methods a benchmark runs: the shipped ones by name, and a user's own by class.

A user's method goes through the same protocol as ours (datasets, splits, seeds, leakage check,
metrics, report). It is named on the user's own command line as ``package.module:Class`` or
passed as a class from Python; the module is imported because the user asked for it, never
because a file named it (cell files record the name, and nothing is ever imported from them).

The contract (:class:`~imitation_datasets.methods.records.Imitator`): the class is built as
``cls(observation_space, action_space, seed=seed)`` (a :class:`~imitation_datasets.methods.base.
Method` subclass also gets ``config=`` its config class's defaults); ``fit(task)`` trains on a
:class:`~imitation_datasets.methods.records.TrainingTask` and may return a
:class:`~imitation_datasets.methods.records.TrainingLog` (its curve goes into the report);
``predict(obs, deterministic=True)`` returns actions for a batch of observations.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, is_dataclass
from typing import Any

import gymnasium as gym

from imitation_datasets.core.config import to_mapping, with_overrides
from imitation_datasets.core.errors import ConfigError, OneLineError
from imitation_datasets.methods import METHODS, Method, get_method, load_config
from imitation_datasets.methods.configuration import scale_budget

NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,63}$")
"""A method name as it appears in cell paths and reports."""


class MethodSpecError(OneLineError, ValueError):
    """A ``module:Class`` method (or a class) cannot be benchmarked; the message says why."""


@dataclass(frozen=True)
class MethodSpec:
    """A method of a benchmark run: its report name and, for a user's class, where it lives.

    Attributes:
        name: the name of its cells and report rows (a shipped method's registry name, or the
            user class's ``name`` attribute, else its lowercased class name).
        target: ``"module:qualname"`` of a user's class, imported again in each worker;
            ``None`` for a shipped method.
        budget_scale: 1 for the protocol; otherwise a budget probe: the config's
            ``budget_fields`` (epochs, iterations, environment steps) times this.
        overrides: ``""`` for the protocol; otherwise a config probe: a JSON object (keys
            sorted, :func:`overrides_text`) of config fields set over the method's config for
            the env, before any budget scaling.
    """

    name: str
    target: str | None = None
    budget_scale: float = 1.0
    overrides: str = ""

    def method_class(self) -> type:
        """The class (imported from ``target`` for a user's method)."""
        return get_method(self.name) if self.target is None else import_target(self.target)

    def config(self, env_id: str) -> Any:
        """The config the method is built with on ``env_id`` (``None``: it takes none).

        Raises:
            ConfigError: a budget scale other than 1 for a method without budget fields;
                overrides for a method without a config, or that its config does not take.
        """
        config = None
        if self.target is None:
            config = load_config(self.name, env_id)
        elif issubclass(cls := self.method_class(), Method):
            config = cls.config_class()
        if self.overrides:
            if config is None:
                raise ConfigError(f"--set: {self.name} has no config whose fields could be set")
            config = with_overrides(config, json.loads(self.overrides), f"--set for {self.name}")
        if self.budget_scale == 1:
            return config
        if config is None:
            raise ConfigError(f"{self.name}: has no config whose budget could be scaled")
        return scale_budget(config, self.budget_scale)

    def config_mapping(self, env_id: str) -> dict[str, Any]:
        """The config as the cell records it (``{}`` for a method without a dataclass config)."""
        config = self.config(env_id)
        return to_mapping(config) if is_dataclass(config) else {}

    def config_defaults(self) -> dict[str, Any]:
        """Every config field's dataclass default (``{}`` without a dataclass config).

        A field added to a method later, with a default that keeps the old behaviour, is
        absent from older cells' recorded configs; its default stands in for it there.
        """
        cls = self.method_class()
        config_class = getattr(cls, "config_class", None)
        if not (isinstance(cls, type) and issubclass(cls, Method) and config_class):
            return {}
        return to_mapping(config_class())

    def build(self, observation_space: gym.Space, action_space: gym.Space, env_id: str,
              seed: int) -> Any:
        """A fresh instance for one cell."""
        cls = self.method_class()
        config = self.config(env_id)
        if config is not None:
            return cls(observation_space, action_space, config=config, seed=seed)
        return cls(observation_space, action_space, seed=seed)


def import_target(target: str) -> type:
    """The class ``module:qualname`` names, checked against the method contract.

    Raises:
        MethodSpecError: no such module or attribute, not a class, or no ``fit``/``predict``.
    """
    module_name, _, qualname = target.partition(":")
    if not module_name or not qualname:
        raise MethodSpecError(f"{target}: expected package.module:Class")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise MethodSpecError(f"{target}: cannot import {module_name!r} ({exc})") from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            raise MethodSpecError(f"{target}: {module_name!r} has no attribute "
                                  f"{qualname!r}") from None
        obj = getattr(obj, part)
    check_contract(obj, target)
    return obj


def check_contract(obj: Any, label: str) -> None:
    """Raise :class:`MethodSpecError` unless ``obj`` is a class with ``fit`` and ``predict``."""
    if not isinstance(obj, type):
        raise MethodSpecError(f"{label}: not a class (got {type(obj).__name__}); a method is "
                              "a class built as cls(observation_space, action_space, seed=...)")
    missing = [m for m in ("fit", "predict") if not callable(getattr(obj, m, None))]
    if missing:
        raise MethodSpecError(f"{label}: {obj.__name__} has no {' or '.join(missing)} method "
                              "(the contract: fit(task) and predict(obs, deterministic=True))")


def overrides_text(overrides: Mapping[str, Any] | None) -> str:
    """``overrides`` as :attr:`MethodSpec.overrides` holds them: JSON, keys sorted (``""``: none).

    Raises:
        ConfigError: not a mapping of field names, or a value JSON cannot hold.
    """
    if not overrides:
        return ""
    if not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides):
        raise ConfigError(f"--set: expected an object of config fields, got {overrides!r:.80}")
    try:
        return json.dumps(dict(overrides), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--set: {exc}") from None


def method_spec(method: str | type) -> MethodSpec:
    """A benchmark method from a shipped name, a ``module:Class`` string or a class.

    Raises:
        UnknownNameError: a plain name that is not a shipped method.
        MethodSpecError: a user class that cannot be benchmarked (one line saying why).
    """
    if isinstance(method, str) and ":" not in method:
        return MethodSpec(get_method(method).name)
    if isinstance(method, str):
        cls = import_target(method)
    else:
        check_contract(method, repr(method))
        cls = method
    shipped = next((name for name, known in METHODS.items() if known is cls), None)
    if shipped is not None:
        return MethodSpec(shipped)
    label = f"{cls.__module__}:{cls.__qualname__}"
    if "<locals>" in cls.__qualname__:
        raise MethodSpecError(f"{label}: defined inside a function; define it at module level "
                              "so that the benchmark's worker processes can import it")
    own = cls.__dict__.get("name")
    name = own if isinstance(own, str) else cls.__name__.lower()
    if not NAME.match(name):
        raise MethodSpecError(f"{label}: method name {name!r} must match {NAME.pattern}")
    if name in METHODS:
        raise MethodSpecError(f"{label}: method name {name!r} is a shipped method's; give the "
                              "class its own name attribute")
    return MethodSpec(name, label)
