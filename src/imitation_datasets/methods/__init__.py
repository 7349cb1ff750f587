"""Imitation-learning methods, one file per paper, over a thin template.

``METHODS`` maps names to classes; :func:`get_method` looks one up and :func:`load_config`
gives its typed hyperparameters for an environment (``methods/config/<name>.yaml``)::

    from imitation_datasets.methods import get_method, load_config
    cls = get_method("bco")
    method = cls(env.observation_space, env.action_space, load_config("bco", "CartPole-v1"), seed=0)
    log = method.fit(task)            # a TrainingTask
    actions = method.predict(obs_batch)

Modules: ``base.py`` (the template and :class:`Imitator`, the ``fit``/``predict`` contract),
``bc.py``, ``bco.py``, ``abco.py``, ``iupe.py`` (one paper each), and the components
``selection.py``, ``interaction.py``, ``inverse_dynamics.py``, ``checkpoint.py``,
``networks.py``, ``configuration.py``, ``records.py``; ``registry.py`` lists the methods.
"""

from __future__ import annotations

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods.abco import ABCO, ABCOConfig
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.bc import BC, BCConfig
from imitation_datasets.methods.bco import BCO, BCOConfig
from imitation_datasets.methods.checkpoint import CheckpointError
from imitation_datasets.methods.configuration import MethodConfig
from imitation_datasets.methods.inverse_dynamics import InverseDynamicsConfig
from imitation_datasets.methods.iupe import IUPE, IUPEConfig
from imitation_datasets.methods.records import (
    EvalRecord,
    Imitator,
    TaskError,
    TrainingLog,
    TrainingTask,
)
from imitation_datasets.methods.registry import METHODS, get_method, load_config

__all__ = [
    "ABCO", "BC", "BCO", "IUPE", "METHODS", "ABCOConfig", "BCConfig", "BCOConfig",
    "CheckpointError", "ConfigError", "EvalRecord", "IUPEConfig", "Imitator",
    "InverseDynamicsConfig", "Method", "MethodConfig", "TaskError", "TrainingLog",
    "TrainingTask", "get_method", "load_config",
]
