"""``il-datasets quality DIR [--against DIR2]``: a dataset's quality metrics (docs/quality.md).

Prints a summary (or, with ``--json``, every number as JSON) on stdout; ``--out FILE`` also
writes the JSON. With ``--against`` both datasets are measured and their behaviour divergence
(state-distribution energy distance with a permutation p-value, returns KS statistic, expert
action divergences) is added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imitation_datasets.cli.arguments import Command, Options
from imitation_datasets.quality.options import QualityOptions


@dataclass(frozen=True)
class QualityTargets:
    """What ``il-datasets quality`` reads and writes."""

    path: Path = field(metadata={"help": "a dataset (anything BaselineDataset reads)"})
    against: Path | None = field(default=None, metadata={
        "help": "a second dataset of the same environment: add the behaviour divergence"})
    json: bool = field(default=False, metadata={"help": "print every number as JSON"})
    out: Path | None = field(default=None, metadata={"help": "also write the JSON to this file"})


def _number(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "-"


def summary(metrics: dict[str, Any]) -> list[str]:
    """A few lines per section of one dataset's metrics."""
    returns, lengths = metrics["returns"], metrics["lengths"]
    states, actions = metrics.get("states") or {}, metrics.get("actions") or {}
    expert = metrics.get("expert") or {}
    transitions = metrics.get("transitions") or {}
    sample = metrics["sample"]
    acceptance = metrics.get("acceptance") or {}
    lines = [
        f"dataset        {metrics['dataset']} ({metrics['env'] or 'unknown env'}, "
        f"{metrics['episodes']} episodes, {metrics['steps']} steps)",
        f"sample         {sample['size']} of {sample['population']} steps, seed {sample['seed']}",
        f"return         {_number(returns['mean'], 2)} ± {_number(returns['std'], 2)} "
        f"[p5 {_number(returns['p5'], 2)}, median {_number(returns['median'], 2)}, "
        f"p95 {_number(returns['p95'], 2)}], normalised score "
        f"{_number(returns['normalised_score'], 1)}",
        f"length         {_number(lengths['mean'], 1)} ± {_number(lengths['std'], 1)} "
        f"[{_number(lengths['min'], 0)}, {_number(lengths['max'], 0)}]",
        f"acceptance     {acceptance.get('accepted', '-')}/{acceptance.get('attempts', '-')}"
        f" (rate {_number(acceptance.get('acceptance_rate'))})",
    ]
    if "knn_entropy" in states:
        lines.append(f"state entropy  {_number(states['knn_entropy'])} nats standardised "
                     f"({_number(states['knn_entropy_per_dim'])} per dim, {states['dims']} dims),"
                     f" {_number(states['knn_entropy_env_units'])} in the env's units; distinct "
                     f"{_number(states['distinct_fraction'])}")
    elif states.get("note"):
        lines.append(f"states         {states['note']}")
    if actions.get("kind") == "discrete":
        lines.append(f"actions        consistency {_number(actions['consistency'])} "
                     f"(H(A|S) {_number(actions['knn_conditional_entropy'])}, "
                     f"H(A) {_number(actions['entropy'])} nats)")
    elif actions:
        lines.append(f"actions        consistency {_number(actions['consistency'])} "
                     f"(k-NN variance {_number(actions['knn_action_variance'], 4)} of "
                     f"{_number(actions['action_variance'], 4)})")
    if transitions:
        lines.append("transitions    k-NN variance of s'-s "
                     f"{_number(transitions.get('knn_state_change_variance'), 4)}"
                     if "knn_state_change_variance" in transitions
                     else f"transitions    {transitions.get('note')}")
    if "action_divergence" in expert:
        lines.append(f"expert         {expert['expert']}: action divergence "
                     f"{_number(expert['action_divergence'], 4)} ({expert['kind']}; per episode "
                     f"mean {_number(expert['episode_weighted_divergence'], 4)}, p95 "
                     f"{_number(expert['episode_divergence_p95'], 4)})")
    elif expert.get("note"):
        lines.append(f"expert         {expert['note']}")
    flags = metrics["flags"]
    lines.append(f"flags          {flags['duplicates']} duplicate, {flags['outliers']} outlier "
                 "episodes")
    for episode, reasons in list(flags["flagged"].items())[:10]:
        lines.append(f"  episode {episode}: {'; '.join(reasons)}")
    if len(flags["flagged"]) > 10:
        lines.append(f"  ... {len(flags['flagged']) - 10} more (--json shows all)")
    return lines


def between_summary(between: dict[str, Any]) -> list[str]:
    """The behaviour-divergence lines of ``--against``."""
    lines = [f"returns        KS {_number(between['returns_ks'])}, mean difference "
             f"{_number(between['returns_mean_difference'], 2)}"]
    states = between.get("states")
    if states:
        lines.append(f"states         energy distance {_number(states['energy_distance'], 4)}, "
                     f"homogeneity {_number(states['homogeneity'], 4)}, permutation p "
                     f"{_number(states['p_value'])} ({states['permutations']} permutations, "
                     f"{states['size'][0]} + {states['size'][1]} steps)")
    expert = between.get("expert_action_divergence")
    if expert:
        lines.append(f"expert         action divergence {_number(expert['a'], 4)} vs "
                     f"{_number(expert['b'], 4)} (difference {_number(expert['difference'], 4)})")
    return lines


def run_quality(targets: QualityTargets, options: QualityOptions, argv: Sequence[str] = ()
                ) -> int:
    """Measure one dataset, or two and their divergence; print the result."""
    from imitation_datasets.core.atomic import atomic_write_text
    from imitation_datasets.quality.measure import compare_datasets, dataset_quality, json_ready

    if targets.against is None:
        result = json_ready(dataset_quality(targets.path, options))
        lines = summary(result)
    else:
        result = json_ready(compare_datasets(targets.path, targets.against, options))
        lines = [*summary(result["a"]), "", *summary(result["b"]), "",
                 "between the two", *between_summary(result["between"])]
    text = json.dumps(result, indent=1, allow_nan=False)
    if targets.out is not None:
        atomic_write_text(targets.out, text + "\n")
    print(text if targets.json else "\n".join(lines))
    return 0


QUALITY = Command("quality", "measure a dataset's quality (and its divergence from another)",
                  (Options(QualityTargets), Options(QualityOptions)), run_quality,
                  target=lambda targets, options: targets.path)
