"""The shipped methods by name, and their per-environment configuration.

Method modules never import this one: it sits above them (it imports every method), so
:mod:`imitation_datasets.methods.base` stays free of the list of methods.
"""

from __future__ import annotations

from typing import Any

from imitation_datasets.core.names import normalise, unknown
from imitation_datasets.methods.abco import ABCO
from imitation_datasets.methods.airl import AIRL
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.bc import BC
from imitation_datasets.methods.bco import BCO
from imitation_datasets.methods.configuration import MethodConfig, method_config
from imitation_datasets.methods.dagger import DAgger
from imitation_datasets.methods.gaifo import GAIfO
from imitation_datasets.methods.gail import GAIL
from imitation_datasets.methods.iq_learn import IQLearnOffline, IQLearnOnline
from imitation_datasets.methods.iupe import IUPE
from imitation_datasets.methods.sqil import SQIL

METHODS: dict[str, type[Method[Any]]] = {"bc": BC, "bco": BCO, "abco": ABCO, "iupe": IUPE,
    "dagger": DAgger, "gail": GAIL, "gaifo": GAIfO, "airl": AIRL,
    "sqil": SQIL, "iq_learn_offline": IQLearnOffline, "iq_learn_online": IQLearnOnline}


def get_method(name: str) -> type[Method[Any]]:
    """The method class registered as ``name`` (case-insensitive).

    Raises:
        UnknownNameError: one line listing the closest registered names.
    """
    by_norm = {normalise(key): cls for key, cls in METHODS.items()}
    cls = by_norm.get(normalise(str(name)))
    if cls is None:
        raise unknown("method", str(name), METHODS)
    return cls


def load_config(method: str, env_id: str | None = None) -> MethodConfig:
    """Hyperparameters of ``method`` for ``env_id``: its YAML defaults with the env's section.

    Returns:
        The method's frozen config dataclass (``BCConfig``, ``BCOConfig``, ...).

    Raises:
        UnknownNameError: no such method.
        ConfigError: the method's YAML file is malformed.
    """
    cls = get_method(method)
    return method_config(cls.config_class, cls.name, env_id)
