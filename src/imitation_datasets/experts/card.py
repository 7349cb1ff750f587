"""Expert cards: the JSON that describes a shipped expert, validated on load.

A card is a frozen dataclass built with :func:`imitation_datasets.core.config.from_mapping`
after a stricter check of the JSON types (finite numbers, JSON ``null``). The file's ``name``
field is the zoo key: :attr:`ExpertCard.key` (``env_id`` is the Gymnasium id).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError, DatasetFormatError, OneLineError
from imitation_datasets.core.json_values import is_finite_number, is_int, short_repr
from imitation_datasets.core.safe_paths import registered_env_id, safe_env_kwargs
from imitation_datasets.core.safe_read import read_json

CARD_SCHEMA_VERSION = 1
QUALITIES = ("meets_target", "below_target")
CARD_LIMIT = 1024 * 1024
REQUIRED = ("name", "env_id", "algo", "network", "weights_file", "weights_sha256", "training",
            "evaluation", "threshold", "threshold_rule", "target", "quality")
# The JSON type of every card field (and of every evaluation field, below).
FIELD_KINDS = {
    "name": "string", "env_id": "string", "algo": "string", "network": "object",
    "weights_file": "string", "weights_sha256": "string", "training": "object",
    "evaluation": "object", "threshold": "finite number", "threshold_rule": "string",
    "target": "finite number", "quality": "string", "aliases": "list of strings",
    "env_kwargs": "object", "action_low": "list of finite numbers or null",
    "action_high": "list of finite numbers or null", "schema_version": "integer",
    "level": "object or null",
}
LEVEL_REQUIRED = {"name": "string", "expert": "string", "expert_return_mean": "finite number",
                  "random_return_mean": "finite number", "return_mean": "finite number",
                  "normalised_score": "finite number"}
"""Fields a lower-proficiency expert's ``level`` section must hold, and their JSON types."""
EVALUATION_KINDS = {"int": "integer", "float": "finite number", "str": "string"}


JSON_NAMES = {"key": "name"}
"""Card fields stored under another name in the JSON file (the file format predates ``key``)."""


class CardError(OneLineError, ValueError):
    """An expert card is missing a field, has a field of the wrong type, or contradicts itself."""


def _is_kind(value: Any, kind: str) -> bool:
    """Whether a parsed JSON value has the JSON type ``kind`` (a value of :data:`FIELD_KINDS`)."""
    if kind.endswith(" or null") and value is None:
        return True
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": is_int,
        "finite number": is_finite_number,
        "object": lambda v: isinstance(v, dict),
        "list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "list of finite numbers": lambda v: isinstance(v, list) and all(
            is_finite_number(x) for x in v),
    }
    return checks[kind.removesuffix(" or null")](value)


def _check_kinds(data: dict[str, Any], kinds: dict[str, str], source: str, prefix: str = ""
                 ) -> None:
    for name, value in data.items():
        if not _is_kind(value, kinds[name]):
            article = "an" if kinds[name][0] in "aeiou" else "a"
            raise CardError(f"{source}: field {prefix}{name} must be {article} {kinds[name]}, "
                            f"got {type(value).__name__} {short_repr(value)}")


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
    """Everything known about a shipped expert; one JSON file next to its weights.

    ``key`` is the expert's key in the zoo (stored as the file's ``name`` field), ``env_id`` its
    Gymnasium id; the other fields are stored under their own names.
    """

    key: str
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
    level: dict[str, Any] | None = None
    """Lower-proficiency experts only: the level (``medium``), the curated expert it comes from,
    that expert's and the random policy's returns, and the measured normalised score."""

    @property
    def expert_key(self) -> str:
        """Key of the curated expert this card's policy belongs to (itself unless a level)."""
        return self.key if self.level is None else str(self.level["expert"])

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<card>", *,
                  allow_env_import: bool = False) -> ExpertCard:
        """Build and validate a card from parsed JSON.

        Args:
            data: the parsed card.
            source: what to call the card in error messages (its file).
            allow_env_import: accept an ``env_id`` with a ``module:`` prefix, which makes
                ``gym.make`` import that module. Off by default: a card names only registered
                Gymnasium ids. This is the caller's decision; nothing in the card can turn it on.

        Raises:
            CardError: one line naming the file and the field (unknown, missing, wrong type,
                unregistered env id, or an inconsistency).
        """
        if not isinstance(data, dict):
            raise CardError(f"{source}: a card must be a JSON object")
        unknown = sorted(set(data) - set(FIELD_KINDS))
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(FIELD_KINDS), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CardError(f"{source}: unknown field(s) {unknown}{hint}")
        missing = [name for name in REQUIRED if name not in data]
        if missing:
            raise CardError(f"{source}: missing field(s) {missing}")
        _check_kinds(data, FIELD_KINDS, source)
        kinds = {f.name: EVALUATION_KINDS[str(f.type)] for f in fields(Evaluation)}
        _check_kinds({k: v for k, v in data["evaluation"].items() if k in kinds}, kinds, source,
                     "evaluation.")
        fields_by_name = {name: key for key, name in JSON_NAMES.items()}
        values = {fields_by_name.get(name, name): value for name, value in data.items()}
        try:
            card = from_mapping(cls, values, source)
        except ConfigError as exc:  # unknown or missing evaluation fields
            raise CardError(str(exc)) from exc
        card.validate(source, allow_env_import=allow_env_import)
        return card

    @classmethod
    def from_file(cls, path: str | Path, *, allow_env_import: bool = False) -> ExpertCard:
        """Read and validate a card file (see :meth:`from_dict` for ``allow_env_import``)."""
        try:
            data = read_json(path, CARD_LIMIT)
        except DatasetFormatError as exc:
            raise CardError(f"cannot read card: {exc}") from None
        return cls.from_dict(data, str(path), allow_env_import=allow_env_import)

    def validate(self, source: str = "<card>", *, allow_env_import: bool = False) -> None:
        """Check internal consistency; raise :class:`CardError` naming the problem.

        ``env_id`` must be a registered Gymnasium id (a ``module:`` prefix only with
        ``allow_env_import=True``) and ``env_kwargs`` plain values (no paths).
        """
        if self.schema_version != CARD_SCHEMA_VERSION:
            raise CardError(f"{source}: schema_version {self.schema_version} is not supported "
                            f"(this library reads {CARD_SCHEMA_VERSION})")
        registered_env_id(self.env_id, source=source, allow_env_import=allow_env_import,
                          error=CardError)
        safe_env_kwargs(self.env_kwargs, source=source, error=CardError)
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
        head = self.network.get("head", {})
        if not isinstance(head, dict):
            raise CardError(f"{source}: field network.head must be an object")
        head = head.get("op")
        if head in ("clip", "tanh_scale") and (self.action_low is None or self.action_high is None):
            raise CardError(f"{source}: head {head!r} needs action_low and action_high")
        for key in ("timesteps", "seed", "recipe"):
            if key not in self.training:
                raise CardError(f"{source}: training.{key} is missing")
        if self.level is not None:
            present = {k: v for k, v in self.level.items() if k in LEVEL_REQUIRED}
            missing = sorted(set(LEVEL_REQUIRED) - set(present))
            if missing:
                raise CardError(f"{source}: level section misses {missing}")
            _check_kinds(present, LEVEL_REQUIRED, source, "level.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the inverse of :meth:`from_dict`), fields in the file's order."""
        data = {JSON_NAMES.get(name, name): value for name, value in asdict(self).items()}
        data["aliases"] = list(self.aliases)
        if data["level"] is None:  # curated experts' cards have no level section
            del data["level"]
        for bound in ("action_low", "action_high"):
            if data[bound] is not None:
                data[bound] = list(data[bound])
        return data

    def write(self, path: str | Path) -> None:
        """Write the card as indented JSON (atomically: a reader sees the old or the new card)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")
