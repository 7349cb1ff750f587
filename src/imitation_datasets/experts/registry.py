"""Registry of experts, keyed by short names (``cartpole``) and Gymnasium ids (``CartPole-v1``)."""

from __future__ import annotations

from typing import Any, ClassVar

from imitation_datasets.core.names import normalise, unknown
from imitation_datasets.experts.curated import load_levels, load_zoo


class Experts:
    """Class-level registry (the original IL-Datasets API: ``register/get_expert/get_register``).

    Curated experts from the package's zoo are registered at import under their short name,
    their Gymnasium id and their aliases. Lookups ignore case and punctuation.
    """

    experts: ClassVar[dict[str, Any]] = {}
    _lookup: ClassVar[dict[str, str]] = {}

    @classmethod
    def register(cls, identifier: str, policy: Any, aliases: tuple[str, ...] = ()) -> None:
        """Register ``policy`` (anything with ``predict`` and an ``env_id``) as ``identifier``."""
        if not hasattr(policy, "predict"):
            raise TypeError(f"{identifier!r}: a policy needs a predict(obs, deterministic) method")
        if hasattr(policy, "threshold") and not isinstance(policy.threshold, float):
            policy.threshold = float(policy.threshold)
        cls.experts[identifier] = policy
        for name in (identifier, *aliases):
            cls._lookup[normalise(name)] = identifier

    @classmethod
    def get_expert(cls, identifier: str) -> Any:
        """Return the expert registered as ``identifier`` (or one of its aliases).

        Raises:
            UnknownNameError: with the closest registered names.
        """
        key = cls._lookup.get(normalise(str(identifier)))
        if key is None:
            names = list(cls.experts) + [getattr(p, "env_id", "") for p in cls.experts.values()]
            raise unknown("expert", str(identifier), [n for n in names if n])
        return cls.experts[key]

    @classmethod
    def get_register(cls) -> dict[str, Any]:
        """All registered experts by their main identifier."""
        return dict(cls.experts)

    @classmethod
    def names(cls) -> list[str]:
        """Every name that resolves to an expert."""
        return sorted(cls._lookup)


LEGACY_ALIASES = {"ant": ("ant-1",)}
"""Names of IL-Datasets 1.0.0 teachers that are not our experts' own (its second Ant teacher
``ant-1`` is our ``ant``), so code written for 1.0.0 finds them without further imports."""

for _expert in load_zoo():
    Experts.register(_expert.key, _expert, (_expert.env_id, *_expert.card.aliases,
                                            *LEGACY_ALIASES.get(_expert.key, ())))
for _level in load_levels():  # under their own key only: the Gymnasium id names the expert
    Experts.register(_level.key, _level)
