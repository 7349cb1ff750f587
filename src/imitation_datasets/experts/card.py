"""Expert cards: the JSON that describes a shipped expert, validated on load."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CARD_SCHEMA_VERSION = 1
QUALITIES = ("meets_target", "below_target")


class CardError(ValueError):
    """An expert card is missing a field or contradicts itself."""


@dataclass(frozen=True)
class Evaluation:
    """Measured returns over ``episodes`` seeded episodes (seeds ``seed_start + k``)."""

    episodes: int
    seed_start: int
    return_mean: float
    return_std: float
    return_min: float
    return_max: float
    random_return_mean: float
    random_return_std: float
    length_mean: float
    command: str


@dataclass(frozen=True)
class ExpertCard:
    """Everything known about a shipped expert; one JSON file next to its weights."""

    name: str
    env_id: str
    algo: str
    network: dict[str, Any]
    weights_file: str
    weights_sha256: str
    training: dict[str, Any]
    evaluation: Evaluation
    threshold: float
    threshold_rule: str
    target: float
    quality: str
    aliases: tuple[str, ...] = ()
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    action_low: tuple[float, ...] | None = None
    action_high: tuple[float, ...] | None = None
    schema_version: int = CARD_SCHEMA_VERSION

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<card>") -> ExpertCard:
        """Build and validate a card from parsed JSON."""
        if not isinstance(data, dict):
            raise CardError(f"{source}: a card must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise CardError(f"{source}: unknown field(s) {unknown}")
        missing = [
            name for name in ("name", "env_id", "algo", "network", "weights_file",
                              "weights_sha256", "training", "evaluation", "threshold",
                              "threshold_rule", "target", "quality")
            if name not in data
        ]
        if missing:
            raise CardError(f"{source}: missing field(s) {missing}")
        try:
            evaluation = Evaluation(**data["evaluation"])
        except TypeError as exc:
            raise CardError(f"{source}: bad evaluation section ({exc})") from None
        values = dict(data)
        values["evaluation"] = evaluation
        values["aliases"] = tuple(data.get("aliases", ()))
        for bound in ("action_low", "action_high"):
            if values.get(bound) is not None:
                values[bound] = tuple(float(v) for v in values[bound])
        card = cls(**values)
        card.validate(source)
        return card

    @classmethod
    def from_file(cls, path: str | Path) -> ExpertCard:
        """Read and validate a card file."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CardError(f"{path}: cannot read card ({exc})") from None
        return cls.from_dict(data, str(path))

    def validate(self, source: str = "<card>") -> None:
        """Check internal consistency; raise :class:`CardError` naming the problem."""
        if self.schema_version != CARD_SCHEMA_VERSION:
            raise CardError(f"{source}: schema_version {self.schema_version} is not supported")
        if not re.fullmatch(r"[0-9a-f]{64}", self.weights_sha256):
            raise CardError(f"{source}: weights_sha256 must be 64 hex digits")
        if self.quality not in QUALITIES:
            raise CardError(f"{source}: quality must be one of {QUALITIES}")
        meets = self.evaluation.return_mean >= self.target
        if meets != (self.quality == "meets_target"):
            raise CardError(
                f"{source}: quality {self.quality!r} contradicts measured mean "
                f"{self.evaluation.return_mean:.2f} vs target {self.target}"
            )
        if self.evaluation.episodes < 1:
            raise CardError(f"{source}: evaluation.episodes must be >= 1")
        head = self.network.get("head", {}).get("op")
        if head in ("clip", "tanh_scale") and (self.action_low is None or self.action_high is None):
            raise CardError(f"{source}: head {head!r} needs action_low and action_high")
        for key in ("timesteps", "seed", "recipe"):
            if key not in self.training:
                raise CardError(f"{source}: training.{key} is missing")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the inverse of :meth:`from_dict`)."""
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        for bound in ("action_low", "action_high"):
            if data[bound] is not None:
                data[bound] = list(data[bound])
        return data

    def write(self, path: str | Path) -> None:
        """Write the card as indented JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
