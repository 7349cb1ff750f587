"""Expert policies: the curated zoo, the Policy interface and the registry."""

from imitation_datasets.experts.card import CardError, ExpertCard
from imitation_datasets.experts.curated import CuratedExpert
from imitation_datasets.experts.policy import CallablePolicy, PickleOptInError, Policy, PolicyLike
from imitation_datasets.experts.registry import Experts

__all__ = [
    "CallablePolicy",
    "CardError",
    "CuratedExpert",
    "ExpertCard",
    "Experts",
    "PickleOptInError",
    "Policy",
    "PolicyLike",
]
