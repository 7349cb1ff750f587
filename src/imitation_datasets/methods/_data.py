"""The one place where methods get their data: transitions and shuffled minibatches.

Every training loop draws its batches from :func:`minibatches`, and every ``(s, a, s')`` comes
from :func:`transitions`; switching the data pipeline means editing only this module.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from imitation_datasets.data.arrays import DatasetArrays


def transitions(data: DatasetArrays) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(s, a, s')`` of every step as float32/int64 tensors.

    ``s'`` is the next observation inside the episode, or the episode's ``final_obs`` on its last
    step; when final observations are unknown (the original layout) each episode's last step is
    dropped. No transition crosses an episode boundary.
    """
    obs = np.asarray(data.obs).reshape(data.n_steps, -1).astype(np.float32, copy=False)
    actions = np.asarray(data.actions)
    last = data.starts + data.lengths - 1
    if data.final_obs is None:
        keep = np.ones(data.n_steps, dtype=bool)
        keep[last] = False
        rows = np.flatnonzero(keep)
        s, a, s_next = obs[rows], actions[rows], obs[rows + 1]
    else:
        s_next = np.empty_like(obs)
        s_next[:-1] = obs[1:]
        s_next[last] = np.asarray(data.final_obs).reshape(data.n_episodes, -1)
        s, a = obs, actions
    a_tensor = torch.as_tensor(np.array(a, dtype=np.int64 if a.dtype.kind in "iub"
                                        else np.float32))
    return torch.as_tensor(np.array(s)), a_tensor, torch.as_tensor(np.array(s_next))


def minibatches(tensors: tuple[torch.Tensor, ...], batch_size: int,
                generator: torch.Generator) -> Iterator[tuple[torch.Tensor, ...]]:
    """One epoch of shuffled minibatches over aligned tensors (each row once; the last batch
    may be smaller). The order depends only on ``generator``'s state."""
    n = len(tensors[0])
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield tuple(t[index] for t in tensors)
