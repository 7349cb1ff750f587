"""Re-measure the shipped experts and print a markdown table.

``python -m imitation_datasets.experts.recipes.evaluate [KEY ...] [--write]`` plays every
expert (default: all of the zoo) on its card's evaluation seeds with
:func:`imitation_datasets.core.evaluation.evaluate_policy`, together with the seeded random
policy on the same seeds. ``--write`` stores the new measurement (evaluation section, threshold,
quality) in the cards. The functions that build a card's measured fields are shared with ``train``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.core.evaluation import evaluate_policy
from imitation_datasets.core.seeding import EXPERT_EVAL_SEED_START
from imitation_datasets.experts.card import Evaluation, ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR, CuratedExpert
from imitation_datasets.experts.network import ExpertNetwork

THRESHOLD_PERCENTILE = 5.0
THRESHOLD_RULE = (
    "min(target, floor(5th percentile of the evaluation returns)) "
    "(numpy.percentile, linear interpolation)"
)
"""How a card's default acceptance threshold follows from its evaluation returns."""


def evaluate_command(key: str) -> str:
    """Shell command that re-measures one shipped expert."""
    return f"python -m imitation_datasets.experts.recipes.evaluate {key}"


class NetworkPolicy:
    """Adapt an :class:`ExpertNetwork` to ``predict(obs, deterministic=True)``."""

    def __init__(self, network: ExpertNetwork) -> None:
        self.network = network

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Return ``(actions, None)`` for one observation or a batch."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.ndim == 1:
            return self.network(obs[None])[0], None
        return self.network(obs), None


class _StepCounter:
    """Wrap a policy and count the observations it acts on.

    The episode runner asks for one action per live environment per step, so the number of
    observations seen equals the number of environment steps played.
    """

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.steps = 0

    def predict(self, obs: Any, deterministic: bool = True) -> Any:
        obs = np.asarray(obs)
        self.steps += 1 if obs.ndim == 1 else len(obs)
        return self.policy.predict(obs, deterministic=deterministic)


def threshold_from_returns(returns: np.ndarray, target: float) -> float:
    """Apply :data:`THRESHOLD_RULE` to measured returns."""
    percentile = float(np.percentile(np.asarray(returns, dtype=np.float64), THRESHOLD_PERCENTILE))
    return float(min(float(target), math.floor(percentile)))


def measure(
    policy: Any,
    env_id: str,
    target: float,
    command: str,
    episodes: int = 100,
    seed_start: int = EXPERT_EVAL_SEED_START,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure a policy on the seeds ``seed_start + k`` and build a card's measured fields.

    Both the policy and the seeded random policy are played with
    :func:`~imitation_datasets.core.evaluation.evaluate_policy` on the same seeds.

    Args:
        policy: anything with ``predict(obs_batch, deterministic=True)``.
        env_id: Gymnasium id.
        target: the expert's target return (decides ``quality`` and caps ``threshold``).
        command: the shell command that re-measures (stored in the evaluation section).
        episodes: number of evaluation episodes.
        seed_start: first evaluation seed.
        env_kwargs: extra ``gym.make`` arguments.

    Returns:
        ``{"evaluation": Evaluation, "threshold", "threshold_rule", "quality", "returns"}``.
    """
    seeds = [seed_start + k for k in range(episodes)]
    counter = _StepCounter(policy)
    returns = evaluate_policy(counter, env_id, seeds, env_kwargs=env_kwargs)
    random_returns = evaluate_policy(None, env_id, seeds, env_kwargs=env_kwargs)
    evaluation = Evaluation(
        episodes=int(episodes),
        seed_start=int(seed_start),
        return_mean=float(np.mean(returns)),
        return_std=float(np.std(returns)),
        return_min=float(np.min(returns)),
        return_max=float(np.max(returns)),
        random_return_mean=float(np.mean(random_returns)),
        random_return_std=float(np.std(random_returns)),
        length_mean=counter.steps / episodes,
        command=command,
    )
    return {
        "evaluation": evaluation,
        "threshold": threshold_from_returns(returns, target),
        "threshold_rule": THRESHOLD_RULE,
        "quality": "meets_target" if evaluation.return_mean >= target else "below_target",
        "returns": returns,
    }


def remeasure(card_path: str | Path, write: bool = False) -> tuple[ExpertCard, ExpertCard]:
    """Re-measure the expert of one card on the card's seeds.

    Returns:
        ``(old_card, new_card)``; ``new_card`` carries the new measurement and is written over
        the old one when ``write`` is true.
    """
    expert = CuratedExpert.from_card_file(card_path)
    card = expert.card
    fields = measure(
        expert.load(), card.env_id, card.target, evaluate_command(card.name),
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
            f"| {new.name} | {new.env_id} | {new.algo} | {ev.return_mean:.2f} ± "
            f"{ev.return_std:.2f} | {ev.random_return_mean:.2f} ± {ev.random_return_std:.2f} "
            f"| {new.target:g} | {new.threshold:g} | {new.quality} "
            f"| {old.evaluation.return_mean:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m imitation_datasets.experts.recipes.evaluate",
        description="Re-measure shipped experts on their cards' evaluation seeds.",
    )
    parser.add_argument("keys", nargs="*", help="experts to measure (default: every card)")
    parser.add_argument("--write", action="store_true",
                        help="store the new measurement in the cards")
    parser.add_argument("--zoo", type=Path, default=ZOO_DIR, help="folder of the cards")
    args = parser.parse_args(argv)

    keys = args.keys or sorted(path.stem for path in args.zoo.glob("*.json"))
    missing = [key for key in keys if not (args.zoo / f"{key}.json").is_file()]
    if missing:
        parser.error(f"no card for {missing} in {args.zoo}")
    rows = []
    for key in keys:
        rows.append(remeasure(args.zoo / f"{key}.json", write=args.write))
        print(f"measured {key}", file=sys.stderr, flush=True)
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
