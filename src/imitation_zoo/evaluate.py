"""Re-measure the shipped experts and print a markdown table.

``python -m imitation_zoo.evaluate [KEY ...] [--write]`` plays every expert (default: all of the
zoo) on its card's evaluation seeds with
:func:`imitation_datasets.core.evaluation.evaluate_policy`, together with the seeded random
policy on the same seeds. ``--write`` stores the new measurement (evaluation section, threshold,
quality) in the cards.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from imitation_datasets.experts.card import ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
from imitation_zoo.measure import measure
from imitation_zoo.recipe import EVALUATE_MODULE, evaluate_command

log = logging.getLogger(__name__)


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
    parser = argparse.ArgumentParser(
        prog=f"python -m {EVALUATE_MODULE}",
        description="Re-measure shipped experts on their cards' evaluation seeds.",
    )
    parser.add_argument("keys", nargs="*", help="experts to measure (default: every card)")
    parser.add_argument("--write", action="store_true",
                        help="store the new measurement in the cards")
    parser.add_argument("--zoo", type=Path, default=ZOO_DIR, help="folder of the cards")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    keys = args.keys or sorted(path.stem for path in args.zoo.glob("*.json"))
    missing = [key for key in keys if not (args.zoo / f"{key}.json").is_file()]
    if missing:
        parser.error(f"no card for {missing} in {args.zoo}")
    rows = []
    for key in keys:
        rows.append(remeasure(args.zoo / f"{key}.json", write=args.write))
        log.info("measured %s", key)
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
