"""Re-measure the shipped experts and print a markdown table.

``python -m imitation_zoo.evaluate [KEY ...] [--write]`` plays every expert (default: all of the
zoo) on its card's evaluation seeds with
:func:`imitation_datasets.core.evaluation.evaluate_policy`, together with the seeded random
policy on the same seeds. ``--write`` stores the new measurement (evaluation section, threshold,
quality) in the cards.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imitation_datasets.cli.arguments import OneLineParser, Options
from imitation_datasets.core.config import option
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import LEVELS_DIR, ZOO_DIR, CuratedExpert
from imitation_zoo.measure import measure, measured_level
from imitation_zoo.recipe import EVALUATE_MODULE, evaluate_command

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluateOptions:
    """What ``python -m imitation_zoo.evaluate`` measures (its arguments)."""

    keys: tuple[str, ...] = option((), "experts to measure (default: every card in the zoo)")
    write: bool = option(False, "store the new measurement in the cards")
    zoo: Path = option(ZOO_DIR, "folder of the cards")

    def __post_init__(self) -> None:
        missing = [key for key in self.keys if self.card(key) is None]
        if missing:
            raise ConfigError(f"no card for {missing} in {self.zoo} or {self.levels}")

    @property
    def levels(self) -> Path:
        """Folder of the lower-proficiency experts' cards (``levels/`` under the zoo)."""
        return self.zoo / LEVELS_DIR.name

    def card(self, key: str) -> Path | None:
        """The card of ``key``: a curated expert's, else a level's (``None``: neither)."""
        for folder in (self.zoo, self.levels):
            if (folder / f"{key}.json").is_file():
                return folder / f"{key}.json"
        return None

    def cards(self) -> list[Path]:
        """The cards to measure (every curated expert, then every level, by default)."""
        if self.keys:
            return [path for key in self.keys if (path := self.card(key)) is not None]
        return sorted(self.zoo.glob("*.json")) + sorted(self.levels.glob("*.json"))


def remeasure(card_path: str | Path, write: bool = False) -> tuple[ExpertCard, ExpertCard]:
    """Re-measure the expert of one card on the card's seeds.

    Returns:
        ``(old_card, new_card)``; ``new_card`` carries the new measurement and is written over
        the old one when ``write`` is true.
    """
    expert = CuratedExpert.from_card_file(card_path)
    card = expert.card
    fields = measure(
        expert.load(), card.env_id, card.target, evaluate_command(card.key),
        episodes=card.evaluation.episodes, seed_start=card.evaluation.seed_start,
        env_kwargs=dict(card.env_kwargs),
    )
    fields.pop("returns")
    if card.level is not None:
        fields["level"] = measured_level(card.level, fields["evaluation"].return_mean)
    new_card = dataclasses.replace(card, **fields)
    new_card.validate(str(card_path))
    if write:
        new_card.write(card_path)
    return card, new_card


def markdown_table(rows: Sequence[tuple[ExpertCard, ExpertCard]]) -> str:
    """Format ``(old_card, new_card)`` pairs as a markdown table of the new measurements."""
    lines = [
        "| key | env | algo | return (mean ± std) | random (mean ± std) | target | threshold "
        "| quality | card mean |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for old, new in rows:
        ev = new.evaluation
        lines.append(
            f"| {new.key} | {new.env_id} | {new.algo} | {ev.return_mean:.2f} ± "
            f"{ev.return_std:.2f} | {ev.random_return_mean:.2f} ± {ev.random_return_std:.2f} "
            f"| {new.target:g} | {new.threshold:g} | {new.quality} "
            f"| {old.evaluation.return_mean:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    options = Options(EvaluateOptions, skip=("keys",))
    parser = OneLineParser(prog=f"python -m {EVALUATE_MODULE}",
                           description="Re-measure shipped experts on their cards' evaluation "
                                       "seeds.")
    parser.add_argument("keys", nargs="*", metavar="KEY",
                        help=EvaluateOptions.__dataclass_fields__["keys"].metadata["help"])
    options.add_to(parser)
    parsed = parser.parse_args(argv)
    try:
        args = dataclasses.replace(options.build(parsed, parser.prog), keys=tuple(parsed.keys))
    except ConfigError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = []
    for path in args.cards():
        rows.append(remeasure(path, write=args.write))
        log.info("measured %s", path.stem)
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
