"""``BaselineDataset`` and ``IRLDataset`` with IL-Datasets 1.0.0's contract.

The engine is :mod:`imitation_datasets.data.torch_dataset` (loading, validation, splits,
zero-copy views, batches); these classes give it the original's surface:

* ``BaselineDataset(path, source, hf_split, split, n_episodes, transform, create_dataset=True)``
  (1.0.0's positional order); a missing local path is a ``ValueError`` (also a
  ``FileNotFoundError``, as before);
* items ``(s, a, s')`` — the paper's 3-tuple — with discrete actions shaped ``(1,)`` as in
  every original version; ``return_done=True`` adds 1.0.0's ``done`` as a fourth item;
* ``IRLDataset`` items ``(s, a, s', done, r)`` (1.0.0's order);
* per-transition ``.states``, ``.actions`` and ``.next_states`` (1.0.0's attributes), and
  ``.data``, the selected episodes as 1.0.0's ``teacher.npz`` keys.

Deviations from 1.0.0 are listed in ``docs/compat.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from imitation_datasets.collect.functions import teacher_columns
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.data import torch_dataset
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.transitions import Transform


class DatasetNotFoundError(ImitationDatasetsError, FileNotFoundError, ValueError):
    """No dataset at the path: 1.0.0 raised ``ValueError``, this library ``FileNotFoundError``."""


class BaselineDataset(torch_dataset.BaselineDataset):
    """Teacher dataset with 1.0.0's contract (see the module docstring).

    Args:
        path, source, hf_split, split, n_episodes, transform: as
            :class:`imitation_datasets.data.torch_dataset.BaselineDataset` (1.0.0's order);
            also ``source="catalogue"``: ``path`` is a catalogue key and ``hf_split`` its
            split (:func:`catalogue_path`).
        create_dataset: 1.0.0's switch to skip building the transition tensors. Accepted for
            compatibility: the tensors here are views built on demand, so nothing is skipped.
        return_done: items are ``(s, a, s', done)`` (1.0.0's ``BaselineDataset``) instead of
            the paper's ``(s, a, s')``.
        **kwargs: ``revision``, ``cache_dir``, ``allow_nonfinite`` (keywords).

    Raises:
        DatasetNotFoundError: ``path`` does not exist (a ``ValueError`` and a
            ``FileNotFoundError``).
    """

    def __init__(self, path: str | Path | LoadedData, source: str = "local",
                 hf_split: str = "train", split: str = "train", n_episodes: int | None = None,
                 transform: Transform | None = None, create_dataset: bool = True, *,
                 return_done: bool = False, **kwargs: Any) -> None:
        self.create_dataset = create_dataset
        self.return_done = return_done
        self._per_transition: dict[str, Any] = {}
        if source == "catalogue" and isinstance(path, str | Path):
            path, source, hf_split = catalogue_path(str(path), hf_split), "local", "train"
        try:
            super().__init__(path, source, hf_split, split, n_episodes, transform, **kwargs)
        except FileNotFoundError as exc:
            if isinstance(exc, ValueError):
                raise
            raise DatasetNotFoundError(str(exc)) from None

    # ------------------------------------------------------------------ 1.0.0's attributes
    # The engine stores per-step tensors under these names; 1.0.0's are per transition.
    @property
    def states(self) -> Any:
        """``s_t`` of every transition (a view when each step is a transition)."""
        return self._transition_view("states", self._step_states)

    @states.setter
    def states(self, value: Any) -> None:
        self._step_states = value
        self._per_transition.pop("states", None)

    @property
    def actions(self) -> torch.Tensor:
        """``a_t`` of every transition; discrete actions shaped ``(N, 1)`` (1.0.0's)."""
        return self._transition_view("actions", self._step_actions)

    @actions.setter
    def actions(self, value: torch.Tensor) -> None:
        self._step_actions = value
        self._per_transition.pop("actions", None)

    @property
    def next_states(self) -> torch.Tensor | None:
        """``s_{t+1}`` of every transition (a copy, made on first use; ``None`` for images)."""
        if isinstance(self.arrays.obs, ImageColumn):
            return None
        if "next_states" not in self._per_transition:
            episodes, rows = self._all_rows()
            self._per_transition["next_states"] = self.transitions.next_observations(
                episodes, rows)
        return self._per_transition["next_states"]

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The selected episodes as 1.0.0's ``teacher.npz`` keys (``obs``, ``actions``, ...)."""
        return teacher_columns(self.arrays, "baseline")

    def _all_rows(self) -> tuple[np.ndarray, np.ndarray]:
        return self.transitions.locate_batch(np.arange(len(self)))

    def _transition_view(self, name: str, steps: Any) -> Any:
        if name not in self._per_transition:
            value = steps
            if not self.has_final_obs and not isinstance(value, ImageColumn):
                value = value[torch.from_numpy(self._all_rows()[1])]
            if name == "actions" and self.discrete_actions:
                value = value.reshape(-1, 1)
            self._per_transition[name] = value
        return self._per_transition[name]

    # ------------------------------------------------------------------ items
    def item(self, index: int) -> tuple[torch.Tensor, ...]:
        """Transition ``index``: ``(s, a, s')`` (``return_done``: ``(s, a, s', done)``)."""
        return tuple(part[0] for part in self.gather([index]))

    def gather(self, index: torch.Tensor | np.ndarray | list[int]) -> tuple[torch.Tensor, ...]:
        """A batch of items (discrete actions ``(B, 1)``)."""
        index = _indices(index)
        parts = list(super().gather(index))
        if self.discrete_actions:
            parts[1] = parts[1].reshape(-1, 1)
        if self.return_done and len(parts) == 3:
            parts.append(self._done_of(index))
        return tuple(parts)

    def _done_of(self, index: np.ndarray) -> torch.Tensor:
        """Whether each transition is the last one of its episode."""
        index = np.where(index < 0, index + len(self), index)
        episodes, _ = self.transitions.locate_batch(index)
        last = self.transitions.first[episodes] + self.transitions.counts[episodes] - 1
        return torch.from_numpy(index == last)


def catalogue_path(key: str, split: str = "train") -> Path:
    """The catalogue's verified copy of ``key``'s ``split`` (``train`` or ``random``).

    ``BaselineDataset("hopper", source="catalogue")`` reads it (``hf_split`` names the split):
    the local catalogue cache, else the hub cache, else regenerated by the Controller; the
    content fingerprint is checked either way (:func:`imitation_datasets.catalogue.get_dataset`).
    """
    from imitation_datasets.catalogue import get_dataset

    return get_dataset(key, split=split).path


class IRLDataset(BaselineDataset, torch_dataset.IRLDataset):
    """``BaselineDataset`` whose items are 1.0.0's ``(s, a, s', done, r)``.

    ``done`` is true on the last transition of each episode (termination or time limit);
    ``.terminated`` tells them apart; ``.dones``, ``.terminated`` and ``.rewards`` are per step.
    """

    def __init__(self, path: str | Path | LoadedData, source: str = "local",
                 hf_split: str = "train", split: str = "train", n_episodes: int | None = None,
                 transform: Transform | None = None, **kwargs: Any) -> None:
        super().__init__(path, source, hf_split, split, n_episodes, transform, **kwargs)


def _indices(index: Any) -> np.ndarray:
    """Indices (tensor, array or list) as a 1-D int64 NumPy array."""
    if isinstance(index, torch.Tensor):
        index = index.detach().cpu().numpy()
    return np.asarray(index, dtype=np.int64).reshape(-1)


__all__ = ["BaselineDataset", "DatasetNotFoundError", "IRLDataset"]
