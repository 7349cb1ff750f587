"""``il-datasets experts``: the curated experts and their measured returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from imitation_datasets.cli.arguments import Command, Options


@dataclass(frozen=True)
class ExpertsOptions:
    """Options of ``il-datasets experts``."""

    markdown: bool = field(default=False, metadata={"help": "print a Markdown table"})


def expert_table(markdown: bool = False) -> str:
    """Table of the registry with the measured returns from the expert cards."""
    from imitation_datasets.experts.curated import CuratedExpert
    from imitation_datasets.experts.registry import Experts

    header = ["expert", "env", "extra", "algo", "return (mean ± std)", "random", "target",
              "threshold", "quality"]
    rows = []
    for key, expert in sorted(Experts.get_register().items()):
        if isinstance(expert, CuratedExpert):
            card, ev = expert.card, expert.card.evaluation
            rows.append([key, card.env_id, _extra(card.env_id), card.algo,
                         f"{ev.return_mean:.1f} ± {ev.return_std:.1f}",
                         f"{ev.random_return_mean:.1f}", f"{card.target:g}",
                         f"{card.threshold:g}", card.quality.replace("_", " ")])
        else:
            env_id = getattr(expert, "env_id", "?")
            rows.append([key, env_id, _extra(env_id), str(getattr(expert, "algo", "?")),
                         "-", "-", "-", f"{getattr(expert, 'threshold', '-')}", "user"])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *rows])


def _extra(env_id: str) -> str:
    """The extra the expert's environment needs (``[box2d]``, ``[mujoco]``) or ``-``."""
    from imitation_datasets.core.extras import env_extra

    extra = env_extra(env_id)
    return f"[{extra}]" if extra else "-"


def run_experts(options: ExpertsOptions, argv: Any = None) -> int:
    """Print the expert table."""
    print(expert_table(options.markdown))
    return 0


EXPERTS = Command("experts", "list the curated experts and their measured returns",
                  (Options(ExpertsOptions),), run_experts)
