"""Imitation-learning methods, one file each, over a small base class.

``METHODS`` maps names to classes; :func:`get_method` looks one up and :func:`load_config`
gives its hyperparameters for an environment (``methods/config/<name>.yaml``)::

    from imitation_datasets.methods import get_method, load_config
    cls = get_method("bco")
    method = cls(env.observation_space, env.action_space, load_config("bco", "CartPole-v1"), seed=0)
    log = method.fit(task)            # a TrainingTask
    actions = method.predict(obs_batch)
"""

from __future__ import annotations

from imitation_datasets.core.names import normalise, unknown
from imitation_datasets.methods.abco import ABCO
from imitation_datasets.methods.base import (
    CheckpointError,
    EvalRecord,
    Method,
    ObservationMethod,
    TrainingLog,
    TrainingTask,
)
from imitation_datasets.methods.bc import BC
from imitation_datasets.methods.bco import BCO
from imitation_datasets.methods.configuration import ConfigError
from imitation_datasets.methods.configuration import load_config as _load_config
from imitation_datasets.methods.iupe import IUPE

METHODS: dict[str, type[Method]] = {"bc": BC, "bco": BCO, "abco": ABCO, "iupe": IUPE}


def get_method(name: str) -> type[Method]:
    """The method class registered as ``name`` (case-insensitive).

    Raises:
        UnknownNameError: one line listing the closest registered names.
    """
    by_norm = {normalise(key): cls for key, cls in METHODS.items()}
    cls = by_norm.get(normalise(str(name)))
    if cls is None:
        raise unknown("method", str(name), METHODS)
    return cls


def load_config(method: str, env_id: str | None = None) -> dict:
    """Hyperparameters of ``method`` for ``env_id``: YAML defaults merged with the env's section.

    Raises:
        UnknownNameError: no such method.
    """
    return _load_config(get_method(method).name, env_id)


__all__ = [
    "ABCO", "BC", "BCO", "IUPE", "METHODS", "CheckpointError", "ConfigError", "EvalRecord",
    "Method", "ObservationMethod", "TrainingLog", "TrainingTask", "get_method", "load_config",
]
