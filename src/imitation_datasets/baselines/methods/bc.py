"""IL-Datasets 1.0.0's ``BC`` over our Behavioural Cloning policy.

The network, loss and prediction of :mod:`imitation_datasets.methods.bc`, trained from the
user's ``DataLoader``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from imitation_datasets.baselines.methods.method import Method, Metrics


class BC(Method):
    """Behavioural Cloning (Pomerleau, 1988), 1.0.0's API.

    ``BC(env, enjoy_criteria=100, verbose=False, config_file=None)``; batches are
    ``(states, actions, ...)`` (any extra items, e.g. 1.0.0's ``done``, are ignored); discrete
    actions may be ``(B,)`` or 1.0.0's ``(B, 1)``. ``accuracy`` is the percentage of greedy
    actions equal to the expert's (discrete) or the mean L2 distance to them (continuous).
    """

    __version__ = "1.0.0"
    __author__ = "Pomerleau"
    __method_name__ = "Behavioural Cloning"
    method_name: ClassVar[str] = "bc"
    folder_name: ClassVar[str] = "bc"

    def __init__(self, environment: Any, enjoy_criteria: int = 100, verbose: bool = False,
                 config_file: str | None = None) -> None:
        super().__init__(environment, enjoy_criteria, verbose, config_file)
        self.optimizer_fn = self.method.make_optimizer(self.policy, self.method.config.lr)

    def _train(self, dataset: Iterable[Any]) -> Metrics:
        """One epoch of minibatch descent on the policy's loss (cross-entropy or MSE)."""
        policy = self.method.policy
        policy.train()
        losses, scores = [], []
        for batch in dataset:
            x, target, action = self._policy_batch(batch)
            loss = policy.loss(x, target)
            self.optimizer_fn.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer_fn.step()
            losses.append(float(loss.detach()))
            scores.append(self._policy_score(x, target, action))
        policy.eval()
        return {"loss": float(np.mean(losses)), "accuracy": float(np.mean(scores))}
