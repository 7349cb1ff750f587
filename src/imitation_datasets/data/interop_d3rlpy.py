"""d3rlpy: a dataset as a ``MDPDataset`` (terminals = terminated, timeouts = truncated).

Use this rather than d3rlpy's own ``d3rlpy.datasets.get_minari`` on a Minari export: that
function concatenates each Minari episode's ``T + 1`` observations against its ``T`` actions, so
from the second episode on every observation is paired with the action one row earlier (the
shift grows by one row per episode), and the last observations of the dataset are cut.

d3rlpy's ``MDPDataset`` keeps ``T`` observations per episode: a terminated episode's last
transition ends in d3rlpy's zero observation (its value does not matter to a TD target), and a
truncated episode's last step has no next observation there, so d3rlpy drops it from its
transitions (our final observations do not fit its layout). Behaviour cloning, which reads no
next observation, uses every step.

d3rlpy 2.8 pins ``gymnasium==1.0.0``, so it is not one of our extras: install it in its own
environment (``benchmarks/interop_d3rlpy.py`` shows how); ``d3rlpy`` is imported only here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imitation_datasets.core.extras import MissingExtraError
from imitation_datasets.data.interop import Source, interop_source
from imitation_datasets.data.schema import dataset_spaces


def to_d3rlpy(source: Source, **kwargs: Any) -> Any:
    """A ``d3rlpy.dataset.MDPDataset`` of every step of ``source``.

    Args:
        source: a dataset path, arrays, ``LoadedData`` or a ``BaselineDataset`` (its split).
        **kwargs: passed to ``MDPDataset`` (``transition_picker``, ``trajectory_slicer``...).

    Returns:
        the ``MDPDataset``: observations as stored, actions int64 ``(T,)`` for a Discrete
        space (``action_space=DISCRETE``, ``action_size=n``) or float32 ``(T, A)`` for a Box,
        rewards float32 ``(T, 1)``, ``terminals`` our ``terminated``, ``timeouts`` our
        ``truncated``.
    """
    try:
        from d3rlpy.constants import ActionSpace
        from d3rlpy.dataset import MDPDataset
    except ImportError:
        raise MissingExtraError(
            "to_d3rlpy needs d3rlpy (pip install d3rlpy; it pins gymnasium==1.0.0, so use its "
            "own environment)") from None
    loaded = interop_source(source, "d3rlpy")
    arrays = loaded.arrays
    _, action_space = dataset_spaces(loaded.metadata, arrays.obs, arrays.actions)
    actions: np.ndarray
    discrete = arrays.actions.ndim == 1 and np.issubdtype(arrays.actions.dtype, np.integer)
    if discrete:
        kwargs.setdefault("action_space", ActionSpace.DISCRETE)
        kwargs.setdefault("action_size", int(getattr(action_space, "n", arrays.actions.max() + 1)))
        actions = np.asarray(arrays.actions, dtype=np.int64)
    else:
        kwargs.setdefault("action_space", ActionSpace.CONTINUOUS)
        actions = np.asarray(arrays.actions, dtype=np.float32).reshape(arrays.n_steps, -1)
    return MDPDataset(
        observations=np.ascontiguousarray(arrays.obs), actions=actions,
        rewards=arrays.rewards.astype(np.float32).reshape(-1, 1),
        terminals=arrays.terminated.astype(np.float32),
        timeouts=arrays.truncated.astype(np.float32), **kwargs)


__all__ = ["to_d3rlpy"]
