"""Curated experts shipped with the package: a JSON card plus safetensors weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.acting import one_or_batch
from imitation_datasets.core.safe_paths import contained_path
from imitation_datasets.experts.card import CardError, ExpertCard
from imitation_datasets.experts.network import ExpertNetwork, sha256_file
from imitation_datasets.experts.policy import policy_environment

ZOO_DIR = Path(__file__).resolve().parent / "zoo"
LEVELS_DIR = ZOO_DIR / "levels"
"""Lower-proficiency experts (``<key>-<level>.json`` + weights): intermediate checkpoints of the
curated experts' recipes, shipped and loaded exactly like them (``imitation_zoo.levels``)."""


def level_key(key: str, level: str) -> str:
    """Zoo key of curated expert ``key``'s lower-proficiency ``level`` (``cartpole-medium``)."""
    return f"{key}-{level}"


class CuratedExpert:
    """A shipped expert policy; inference runs in NumPy (no torch, SB3 or pickle).

    Args:
        card: the validated card.
        directory: folder holding ``card.weights_file``.
        source: the card's file, for error messages.

    Raises:
        CardError: ``card.weights_file`` is not a relative path inside ``directory``
            (absolute, ``..``, or a symlink leading out).
    """

    def __init__(self, card: ExpertCard, directory: str | Path = ZOO_DIR,
                 source: str | None = None) -> None:
        self.card = card
        self.directory = Path(directory)
        self._source = source or str(self.directory / f"{card.key}.json")
        self._weights_path = contained_path(self.directory, card.weights_file, source=self._source,
                                            field="weights_file", error=CardError)
        self._network: ExpertNetwork | None = None

    @classmethod
    def from_card_file(cls, path: str | Path, *, allow_env_import: bool = False
                       ) -> CuratedExpert:
        """Load a card and remember where its weights are.

        Args:
            path: the card (JSON).
            allow_env_import: accept a ``module:`` env id (``gym.make`` will import the module);
                see :meth:`ExpertCard.from_dict`. Only the caller can turn this on.

        Raises:
            CardError: an unreadable or invalid card (one line naming the file and field).
        """
        path = Path(path)
        card = ExpertCard.from_file(path, allow_env_import=allow_env_import)
        return cls(card, path.parent, str(path))

    @property
    def key(self) -> str:
        """The expert's key in the zoo (``"cartpole"``)."""
        return self.card.key

    @property
    def name(self) -> str:
        """Deprecated alias of :attr:`env_id` (the original IL-Datasets ``Policy.name``)."""
        return self.card.env_id

    @property
    def env_id(self) -> str:
        """Gymnasium id of the expert's environment."""
        return self.card.env_id

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """Extra ``gym.make`` arguments of the environment."""
        return dict(self.card.env_kwargs)

    def get_environment(self) -> Any:
        """A new environment of this expert (IL-Datasets 1.0.0's ``Policy.get_environment``)."""
        return policy_environment(self)

    @property
    def threshold(self) -> float:
        """Default acceptance threshold (episode return) used by the Controller."""
        return float(self.card.threshold)

    @property
    def algo(self) -> str:
        """Algorithm that trained the expert."""
        return self.card.algo

    @property
    def weights_path(self) -> Path:
        """Path of the safetensors file (checked to lie inside :attr:`directory`)."""
        return self._weights_path

    def load(self) -> CuratedExpert:
        """Read and verify the weights (sha256 against the card); idempotent."""
        if self._network is None:
            path = self.weights_path
            if not path.is_file():
                raise CardError(f"{self._source}: weights file {path} is missing")
            digest = sha256_file(path)
            if digest != self.card.weights_sha256:
                raise CardError(
                    f"{path}: sha256 {digest} does not match the card ({self.card.weights_sha256})"
                )
            self._network = self._build_network(path)
        return self

    def _build_network(self, path: Path) -> ExpertNetwork:
        """The network of the card's ``network`` section; any inconsistency is a CardError."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        low = None if self.card.action_low is None else np.array(self.card.action_low)
        high = None if self.card.action_high is None else np.array(self.card.action_high)
        try:
            return ExpertNetwork(self.card.network, load_file(str(path)), low, high)
        except (SafetensorError, ValueError, TypeError, KeyError, AttributeError,
                IndexError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CardError(f"{self._source}: field network does not describe the weights in "
                            f"{path.name} ({reason})") from None

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Return ``(actions, None)`` for one observation or a batch.

        The tuple is stable-baselines3's ``predict`` convention, so a curated expert is a
        drop-in for an SB3 model. The experts are deterministic; ``deterministic=False`` is
        accepted for compatibility.
        """
        network = self.load()._network
        assert network is not None  # load() built it
        return one_or_batch(network, obs, dtype=np.float32), None

    def provenance(self) -> dict[str, Any]:
        """What a dataset's metadata records about this expert."""
        ev = self.card.evaluation
        return {
            "kind": "curated",
            "id": self.card.key,
            "algo": self.card.algo,
            "weights_sha256": self.card.weights_sha256,
            "return_mean": ev.return_mean,
            "return_std": ev.return_std,
            "evaluation_episodes": ev.episodes,
            "evaluation_seed_start": ev.seed_start,
            "random_return_mean": ev.random_return_mean,
            "target": self.card.target,
            "quality": self.card.quality,
            **self._level_provenance(),
        }

    def _level_provenance(self) -> dict[str, Any]:
        """A lower-proficiency expert's level, curated expert and that expert's return."""
        level = self.card.level
        if level is None:
            return {}
        return {"level": level["name"], "expert": level["expert"],
                "expert_return_mean": level["expert_return_mean"],
                "normalised_score": level["normalised_score"]}

    def __repr__(self) -> str:
        return f"CuratedExpert({self.card.key!r}, env_id={self.env_id!r})"


def load_zoo(directory: str | Path = ZOO_DIR, *, allow_env_import: bool = False
             ) -> list[CuratedExpert]:
    """All curated experts whose card lies in ``directory`` (sorted by name).

    ``allow_env_import`` as in :meth:`CuratedExpert.from_card_file`.
    """
    return [CuratedExpert.from_card_file(p, allow_env_import=allow_env_import)
            for p in sorted(Path(directory).glob("*.json"))]


def load_levels(directory: str | Path = LEVELS_DIR) -> list[CuratedExpert]:
    """All lower-proficiency experts whose card lies in ``directory`` (sorted by key)."""
    return load_zoo(directory) if Path(directory).is_dir() else []
