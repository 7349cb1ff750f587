"""IL-Datasets 1.0.0's ``BCO``, ``ABCO`` and ``IUPE`` over our methods of the same names.

These methods interleave inverse-dynamics training, labelling and environment play, which our
implementations (:mod:`imitation_datasets.methods.bco`, ``abco``, ``iupe``) run as one ``fit``.
The adapter keeps 1.0.0's constructor, ``train`` signature, ``save``/``load``, ``predict`` and
``_enjoy``; ``train`` hands the data of the user's ``DataLoader`` to that ``fit`` (with
``n_epochs`` as its cap on policy epochs) instead of looping over its batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from imitation_datasets.baselines.methods.method import (
    ENJOY_SEED_START,
    Method,
    Metrics,
    plain_json,
)
from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.methods import TrainingTask

VALIDATION_SEEDS = [ENJOY_SEED_START + 1_000 + k for k in range(100)]
"""Model selection's reset seeds (apart from ``_enjoy``'s)."""


def loader_arrays(loader: Any, what: str) -> DatasetArrays:
    """The episodes behind a ``DataLoader`` over one of our ``BaselineDataset``.

    Raises:
        TypeError: the loader's dataset is not one of ours (its episodes are needed whole).
    """
    arrays = getattr(getattr(loader, "dataset", loader), "arrays", None)
    if not isinstance(arrays, DatasetArrays):
        raise TypeError(f"{what}: needs a DataLoader over imitation_datasets' BaselineDataset "
                        f"(whole episodes), got {type(loader).__name__}")
    return arrays


class ObservationMethod(Method):
    """1.0.0's API for the methods that learn from states only (BCO family).

    ``train_dataset`` is a ``DataLoader`` of the expert's data, or 1.0.0's dict
    ``{"expert_dataset": ..., "idm_dataset": ...}``; without ``idm_dataset`` our method plays
    its seeded random episodes itself (1.0.0 made a random dataset with ``get_random_dataset``).
    ABCO and IUPE count an episode as a success when its return reaches the lowest return of
    the expert's episodes.
    """

    hyperparameter_names: ClassVar[dict[str, str]] = {
        "lr": "lr", "hidden_dim": "hidden", "batch_size": "batch_size", "idm_lr": "idm_lr"}

    def train(self, n_epochs: int, train_dataset: Any, eval_dataset: Iterable[Any] | None = None,
              always_save: bool = False, folder: str | None = None) -> Method:
        """Fit our method on the expert's episodes; keep the weights model selection picks.

        The learning curve (our ``TrainingLog``) goes to ``<folder>/metrics.json``, with the
        accuracy on ``eval_dataset`` when given; the kept weights are saved as the best model
        (``always_save``: also under the number of epochs run).
        """
        folder = folder or f"./benchmark_results/{self.folder_name}/{self.environment_name}"
        Path(folder).mkdir(parents=True, exist_ok=True)
        parts = train_dataset if isinstance(train_dataset, dict) else {
            "expert_dataset": train_dataset}
        expert = loader_arrays(parts["expert_dataset"], f"{type(self).__name__}.train")
        random = (loader_arrays(parts["idm_dataset"], f"{type(self).__name__}.train")
                  if "idm_dataset" in parts else None)
        spec = self.environment.spec
        kwargs = {k: v for k, v in dict(spec.kwargs).items() if k != "render_mode"}
        seeds = VALIDATION_SEEDS[:self.method.config.eval_episodes or len(VALIDATION_SEEDS)]
        task = TrainingTask(
            env_id=spec.id, env_kwargs=kwargs, expert=expert, random=random,
            validation_seeds=seeds, expert_return=float(expert.returns.mean()),
            random_return=float(evaluate_policy(None, spec.id, seeds, kwargs).mean()),
            success_threshold=float(expert.returns.min()), max_epochs=int(n_epochs))
        log = self.method.fit(task)
        self._fitted = True
        record: dict[str, Any] = {"fit": log.to_dict()}
        if eval_dataset is not None:
            record["eval"] = self._eval(eval_dataset)
        atomic_write_text(Path(folder) / "metrics.json", json.dumps(record, indent=1,
                                                                    default=plain_json))
        self.save()
        if always_save:
            self.save(name=self.method.epoch)
        return self

    def _train(self, dataset: Iterable[Any]) -> Metrics:
        """Not a per-batch method: :meth:`train` runs our method's whole ``fit``."""
        raise TypeError(f"{type(self).__name__} trains through train(), which runs "
                        f"{type(self.method).__name__}.fit on the whole dataset")


class BCO(ObservationMethod):
    """Behavioural Cloning from Observation (Torabi et al., 2018), 1.0.0's API."""

    __author__ = "Torabi et. al."
    __method_name__ = "Behavioural Cloning from Observation"
    method_name: ClassVar[str] = "bco"
    folder_name: ClassVar[str] = "bco"


class ABCO(ObservationMethod):
    """Augmented Behavioural Cloning from Observation (Monteiro et al., 2020), 1.0.0's API."""

    __author__ = "Monteiro et. al."
    __method_name__ = "Augmented Behavioural Cloning from Observation"
    method_name: ClassVar[str] = "abco"
    folder_name: ClassVar[str] = "abco"


class IUPE(ObservationMethod):
    """Imitating Unknown Policies via Exploration (Gavenski et al., 2020), 1.0.0's API."""

    __author__ = "Gavenski et. al."
    __method_name__ = "Imitating Unknown Policies via Exploration"
    method_name: ClassVar[str] = "iupe"
    folder_name: ClassVar[str] = "iupe"
