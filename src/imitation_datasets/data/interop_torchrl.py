"""TorchRL: a dataset as a ``TensorDict`` of transitions, or a replay buffer holding them.

TorchRL's conventions (``torchrl.envs`` rollouts): ``observation``, ``action``, ``done``,
``terminated``, ``truncated`` at the root; ``("next", "observation")``, ``("next", "reward")``,
``("next", "done")``, ``("next", "terminated")``, ``("next", "truncated")`` under ``next``;
rewards (float64, as stored and as TorchRL's ``MinariExperienceReplay`` gives them) and flags
shaped ``[T, 1]``. ``("next", "observation")`` of an episode's last step is its
stored final observation, so no transition is lost or crosses an episode. ``episode`` and
``step`` say where each row comes from. Observations keep their stored dtype; actions are int64
(Discrete) or their stored float dtype.

Needs ``torchrl`` (``pip install "imitation-datasets[torchrl]"``), imported only here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from imitation_datasets.core.extras import require_extra
from imitation_datasets.data.arrow import step_numbers
from imitation_datasets.data.hub_layout import next_observations
from imitation_datasets.data.interop import Source, interop_source


def _column(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(values)).reshape(-1, 1)


def to_tensordict(source: Source) -> Any:
    """A ``tensordict.TensorDict`` of every step (batch size ``[T]``, module docstring).

    Args:
        source: a dataset path, arrays, ``LoadedData`` or a ``BaselineDataset`` (its split).
    """
    require_extra("torchrl", "to_tensordict", ("tensordict",))
    from tensordict import TensorDict

    loaded = interop_source(source, "TorchRL")
    arrays = loaded.arrays
    next_obs = next_observations(arrays)
    assert next_obs is not None
    terminated, truncated = _column(arrays.terminated), _column(arrays.truncated)
    done = terminated | truncated
    false = torch.zeros_like(done)
    return TensorDict({
        "observation": torch.from_numpy(np.ascontiguousarray(arrays.obs)),
        "action": torch.from_numpy(np.ascontiguousarray(arrays.actions)),
        "episode": torch.from_numpy(arrays.episode_index),
        "step": torch.from_numpy(step_numbers(arrays.lengths).astype(np.int64)),
        "done": false, "terminated": false.clone(), "truncated": false.clone(),
        "next": TensorDict({
            "observation": torch.from_numpy(next_obs),
            "reward": _column(arrays.rewards),
            "done": done, "terminated": terminated, "truncated": truncated,
        }, batch_size=[arrays.n_steps]),
    }, batch_size=[arrays.n_steps])


def to_replay_buffer(source: Source, *, batch_size: int | None = None,
                     seed: int | None = None) -> Any:
    """A ``torchrl.data.TensorDictReplayBuffer`` holding :func:`to_tensordict`'s transitions.

    Args:
        source: as :func:`to_tensordict`.
        batch_size: the default ``sample()`` size.
        seed: seeds the buffer's sampler (``torch.Generator``), so sampling is reproducible.
    """
    require_extra("torchrl", "to_replay_buffer")
    from torchrl.data import LazyTensorStorage, TensorDictReplayBuffer
    from torchrl.data.replay_buffers.samplers import RandomSampler

    data = to_tensordict(source)
    generator = None
    if seed is not None:
        generator = torch.Generator()
        generator.manual_seed(seed)
    buffer = TensorDictReplayBuffer(storage=LazyTensorStorage(len(data)),
                                    sampler=RandomSampler(), batch_size=batch_size,
                                    generator=generator)
    buffer.extend(data)
    return buffer


__all__ = ["to_replay_buffer", "to_tensordict"]
