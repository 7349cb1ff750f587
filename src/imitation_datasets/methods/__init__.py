"""Imitation-learning methods, one file per paper, over a thin template.

``METHODS`` maps names to classes; :func:`get_method` looks one up and :func:`load_config`
gives its typed hyperparameters for an environment (``methods/config/<name>.yaml``)::

    from imitation_datasets.methods import get_method, load_config
    cls = get_method("bco")
    method = cls(env.observation_space, env.action_space, load_config("bco", "CartPole-v1"), seed=0)
    log = method.fit(task)            # a TrainingTask
    actions = method.predict(obs_batch)

Modules: ``base.py`` (the template), one paper each in ``bc.py``, ``bco.py``, ``abco.py``,
``iupe.py``, ``dagger.py``, ``gail.py``, ``gaifo.py``, ``airl.py``, ``sqil.py`` and
``iq_learn.py``; the components ``selection.py``, ``interaction.py``, ``inverse_dynamics.py``,
``ppo.py``, ``discriminator.py``, ``soft_q.py``, ``replay.py``, ``checkpoint.py``,
``networks.py``, ``configuration.py`` and ``records.py`` (:class:`Imitator`, the
``fit``/``predict`` contract); ``registry.py`` lists the methods.
"""

from __future__ import annotations

from imitation_datasets.core.errors import ConfigError
from imitation_datasets.methods.abco import ABCO, ABCOConfig
from imitation_datasets.methods.airl import AIRL, AIRLConfig
from imitation_datasets.methods.base import Method
from imitation_datasets.methods.bc import BC, BCConfig
from imitation_datasets.methods.bco import BCO, BCOConfig
from imitation_datasets.methods.checkpoint import CheckpointError
from imitation_datasets.methods.configuration import MethodConfig
from imitation_datasets.methods.dagger import DAgger, DAggerConfig
from imitation_datasets.methods.gaifo import GAIfO
from imitation_datasets.methods.gail import GAIL, GAILConfig
from imitation_datasets.methods.inverse_dynamics import InverseDynamicsConfig
from imitation_datasets.methods.iq_learn import IQLearnConfig, IQLearnOffline, IQLearnOnline
from imitation_datasets.methods.iupe import IUPE, IUPEConfig
from imitation_datasets.methods.records import (
    EvalRecord,
    Imitator,
    TaskError,
    TrainingLog,
    TrainingTask,
)
from imitation_datasets.methods.registry import METHODS, get_method, load_config
from imitation_datasets.methods.sqil import SQIL, SQILConfig

__all__ = [
    "ABCO", "AIRL", "BC", "BCO", "GAIL", "IUPE", "METHODS", "SQIL", "ABCOConfig", "AIRLConfig",
    "BCConfig", "BCOConfig", "CheckpointError", "ConfigError", "DAgger", "DAggerConfig",
    "EvalRecord", "GAILConfig", "GAIfO", "IQLearnConfig", "IQLearnOffline", "IQLearnOnline",
    "IUPEConfig", "Imitator", "InverseDynamicsConfig", "Method", "MethodConfig", "SQILConfig",
    "TaskError", "TrainingLog", "TrainingTask", "get_method", "load_config",
]
