"""IL-Datasets 1.0.0's ``OfflineIQLearn`` over our offline IQ-Learn.

The networks and update (``iq_update``) of :class:`~imitation_datasets.methods.IQLearnOffline`,
one gradient step per batch of the user's ``DataLoader``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import torch

from imitation_datasets.baselines.methods.method import Method, Metrics
from imitation_datasets.methods import IQLearnOffline
from imitation_datasets.methods.soft_q import SoftQLearner


class OfflineIQLearn(Method):
    """Offline Inverse soft-Q Learning (Garg et al., 2021), 1.0.0's API.

    Batches must carry the done flag: ``(s, a, s', done)`` (1.0.0's ``BaselineDataset``; ours
    with ``return_done=True``) or ``(s, a, s', done, r)`` (``IRLDataset``; the reward is not
    used). 1.0.0 hyperparameters: ``lr`` (Q-network), ``temperature``, ``gamma``, ``tau``,
    ``alpha`` (the chi^2 divergence's), ``hidden_dim``.
    """

    __version__ = "1.0.0"
    __author__ = "Garg et. al."
    __method_name__ = "Inverse Q-Learn"
    method_name: ClassVar[str] = "iq_learn_offline"
    folder_name: ClassVar[str] = "iqlearn"
    best_name: ClassVar[str] = "best"
    hyperparameter_names: ClassVar[dict[str, str]] = {
        "lr": "critic_lr", "temperature": "alpha", "gamma": "gamma", "tau": "tau",
        "alpha": "divergence_alpha", "hidden_dim": "hidden", "batch_size": "batch_size"}

    def __init__(self, environment: Any, enjoy_criteria: int = 100, verbose: bool = False,
                 config_file: str | None = None) -> None:
        super().__init__(environment, enjoy_criteria, verbose, config_file)
        self._learner: SoftQLearner | None = None

    @property
    def learner(self) -> SoftQLearner:
        """Target network and optimisers (built once the normaliser is fitted)."""
        if self._learner is None:
            assert isinstance(self.method, IQLearnOffline)
            self._learner = self.method.learner()
        return self._learner

    @property
    def q_target(self) -> torch.nn.Module:
        """The target Q-network (1.0.0's attribute)."""
        return self.learner.target

    @property
    def optimizer_fn(self) -> torch.optim.Optimizer:
        """The Q-network's optimiser (1.0.0's attribute)."""
        return self.learner.q_optimizer

    def train(self, n_epochs: int, train_dataset: Iterable[Any],  # type: ignore[override]
              eval_dataset: Iterable[Any] | None = None,
              transforms: Callable[[Any], Any] | None = None, always_save: bool = True,
              folder: str | None = None) -> Method:
        """1.0.0's signature for this method (``transforms`` 4th, ``always_save`` on).

        See :meth:`Method.train`; ``transforms`` go to :meth:`_enjoy`.
        """
        return self.run_training(n_epochs, train_dataset, eval_dataset, always_save, folder,
                                 transforms)

    def after_load(self) -> None:
        """Rebuild the learner so its target network starts from the loaded weights."""
        self._learner = None

    def _batch(self, batch: Any) -> tuple[Any, ...]:
        if len(batch) < 4:
            raise ValueError(
                f"{type(self).__name__} needs batches (states, actions, next_states, done, ...), "
                f"got {len(batch)} items: load the data with BaselineDataset(..., "
                "return_done=True) or IRLDataset")
        state, action, next_state, done = batch[:4]
        flat = len(state)
        return (state.reshape(flat, -1).float(), self.method.policy.encode(action), None,
                next_state.reshape(flat, -1).float(), done.reshape(-1).float())

    def _train(self, dataset: Iterable[Any]) -> Metrics:
        """One gradient step of the IQ-Learn loss per batch of ``dataset``."""
        assert isinstance(self.method, IQLearnOffline)
        losses: list[float] = []
        terms: dict[str, list[float]] = {}
        for batch in dataset:
            parts = self._batch(batch)
            is_expert = torch.ones(len(parts[0]), dtype=torch.bool)
            loss, info = self.method.iq_update(self.learner, parts, is_expert)
            losses.append(loss)
            for key, value in info.items():
                terms.setdefault(key, []).append(value)
        return {"loss": float(np.mean(losses)),
                **{key: float(np.mean(values)) for key, values in terms.items()}}

    def save_checkpoints(self, epoch: int, improved: bool, always_save: bool) -> None:
        """1.0.0's IQ-Learn rule: the best weights as ``best``; with ``always_save`` also each.

        Every enjoy epoch's weights are then saved under the epoch's number.
        """
        if improved:
            self.save()
        if always_save:
            self.save(name=epoch)
