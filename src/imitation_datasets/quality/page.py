"""The dataset report as one self-contained HTML page: inline CSS, base64 images, no network.

Everything shown is escaped (``html.escape``): metadata values come from a file and never
become markup. The only script filters the episode table to flagged episodes.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;
max-width:1100px;color:#1d2733;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #dde3ea;
padding-bottom:.2em;margin-top:1.6em}
.sub{color:#5b6b7c;margin-top:0}
table{border-collapse:collapse;font-size:.85em}td,th{padding:.25em .6em;text-align:left;
border-bottom:1px solid #eef1f4;vertical-align:top}th{background:#f4f6f8}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1em}
.card{border:1px solid #dde3ea;border-radius:6px;padding:.6em .9em}
.card table{width:100%}.card td{overflow-wrap:anywhere}
.wide{grid-column:1/-1}
.ok{color:#1e7e34;font-weight:600}.bad{color:#b52a1c;font-weight:600}
.muted{color:#5b6b7c}
.clips{display:flex;flex-wrap:wrap;gap:1em}.clip{border:1px solid #dde3ea;border-radius:6px;
padding:.5em;font-size:.85em;max-width:320px}
.scroll{max-height:420px;overflow:auto;border:1px solid #dde3ea}
tr.flagged td{background:#fff6e5}
img{max-width:100%}
"""

SCRIPT = """
document.getElementById('only-flagged').addEventListener('change', function (e) {
  document.querySelectorAll('#episodes tbody tr').forEach(function (row) {
    row.style.display = (e.target.checked && !row.classList.contains('flagged')) ? 'none' : '';
  });
});
"""


@dataclass
class Clip:
    """One replayed episode shown on the page."""

    episode: int
    why: str
    matches: bool
    detail: str
    gif: bytes | None
    note: str


def esc(value: Any) -> str:
    """Text for HTML."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals, anything else as text; ``-`` for missing."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def image(png: bytes, alt: str, mime: str = "image/png") -> str:
    """An ``<img>`` with the bytes inline."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:{mime};base64,{data}">'


def rows(pairs: Sequence[tuple[str, Any]]) -> str:
    """A two-column table body."""
    return "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v))}</td></tr>" for k, v in pairs)


def provenance(metadata: dict[str, Any], fingerprint: str, origin: str) -> str:
    """The provenance card: where the data comes from and how it was made."""
    env = metadata.get("env") or {}
    expert = metadata.get("expert") or {}
    collection = metadata.get("collection") or {}
    reference = metadata.get("reference") or {}
    versions = metadata.get("versions") or {}
    creation = metadata.get("creation") or {}
    left = [("dataset", origin), ("content fingerprint", fingerprint),
            ("environment", env.get("id")), ("max episode steps", env.get("max_episode_steps")),
            ("expert", expert.get("id", expert.get("kind"))), ("algorithm", expert.get("algo")),
            ("expert weights sha256", expert.get("weights_sha256")),
            ("expert return (card)", expert.get("return_mean"))]
    right = [("dataset seed", collection.get("dataset_seed")),
             ("threshold", collection.get("threshold")),
             ("random actions", collection.get("random_actions")),
             *[(f"collection {k}", v) for k, v in collection.items()
               if k not in ("dataset_seed", "threshold", "random_actions", "seed_rule",
                            "fingerprint", "enjoy", "episodes", "max_attempts")
               and not isinstance(v, (dict, list))],
             *_noise_rows(collection.get("noise")),
             ("random return (reference)", reference.get("random_return_mean")),
             ("expert return (reference)", reference.get("expert_return_mean")),
             ("created by", creation.get("command")),
             *[(f"{k} version", v) for k, v in versions.items() if v]]
    return (f'<div class="grid"><div class="card"><table>{rows(left)}</table></div>'
            f'<div class="card"><table>{rows(right)}</table></div></div>')


LEGEND = ("<p class=muted>Definitions and references: docs/quality.md. States: k-NN "
          "(Kozachenko&ndash;Leonenko) entropy of standardised states, higher = more diverse. "
          "Actions: consistency 1 = similar states always get the same action. Transitions: "
          "variance of s'&minus;s among neighbours in (s, a), lower = more predictable. Expert: "
          "action divergence from the curated expert at the dataset's states, 0 = the expert's "
          "own actions.</p>")
"""What the numbers mean, shown above the metric cards."""


def _noise_rows(noise: Any) -> list[tuple[str, Any]]:
    """The provenance rows of a sub-optimal dataset's ``collection.noise``."""
    if not isinstance(noise, dict):
        return []
    action = noise.get("action_noise") or {}
    random = noise.get("random_episode_indices") or []
    return [("action noise", f"{action.get('kind', '-')} {action.get('scale', '-')}"),
            ("random episodes", f"{noise.get('random_episodes', '-')} (drawn: {len(random)})")]


def metric_cards(metrics: dict[str, Any]) -> str:
    """The quality metrics, one card per section."""
    returns, lengths = metrics["returns"], metrics["lengths"]
    acceptance = metrics.get("acceptance") or {}
    cards = {
        "Returns": [("mean ± std", f"{fmt(returns['mean'], 2)} ± {fmt(returns['std'], 2)}"),
                    ("median [p5, p95]", f"{fmt(returns['median'], 2)} [{fmt(returns['p5'], 2)}"
                                         f", {fmt(returns['p95'], 2)}]"),
                    ("normalised score", fmt(returns.get("normalised_score"), 1)),
                    ("length mean [min, max]", f"{fmt(lengths['mean'], 1)} "
                                               f"[{fmt(lengths['min'], 0)}, "
                                               f"{fmt(lengths['max'], 0)}]"),
                    ("acceptance", f"{acceptance.get('accepted', '-')}/"
                                   f"{acceptance.get('attempts', '-')} attempts")],
    }
    sections = (("States", "states"), ("Actions", "actions"), ("Transitions", "transitions"),
                ("Expert", "expert"))
    for title, key in sections:
        section = metrics.get(key) or {}
        cards[title] = [(k, v) for k, v in section.items()
                        if not isinstance(v, (dict, list)) and k != "expert_weights_sha256"]
    flags = metrics["flags"]
    sample = metrics["sample"]
    cards["Episodes flagged"] = [("duplicates", flags["duplicates"]),
                                 ("outliers", flags["outliers"]),
                                 ("sample", f"{sample['size']} of {sample['population']} steps, "
                                            f"seed {sample['seed']}")]
    return LEGEND + '<div class="grid">' + "".join(
        f'<div class="card"><b>{esc(title)}</b><table>{rows(pairs)}</table></div>'
        for title, pairs in cards.items()) + "</div>"


def episode_table(returns: np.ndarray, lengths: np.ndarray, seeds: np.ndarray,
                  attempts: np.ndarray, terminated: np.ndarray, flagged: dict[str, list[str]],
                  replayed: dict[int, bool], divergence: np.ndarray | None = None,
                  random: frozenset[int] = frozenset()) -> str:
    """Every episode with its flags, replay result, expert divergence and policy."""
    body = []
    for e in range(len(returns)):
        reasons = flagged.get(str(e), [])
        replay = "" if e not in replayed else (
            '<span class="ok">same</span>' if replayed[e] else '<span class="bad">differs</span>')
        gap = "" if divergence is None or np.isnan(divergence[e]) else f"{divergence[e]:.3f}"
        body.append(
            f'<tr{" class=flagged" if reasons else ""}><td>{e}</td><td>{int(seeds[e])}</td>'
            f"<td>{returns[e]:.2f}</td><td>{int(lengths[e])}</td><td>{int(attempts[e])}</td>"
            f"<td>{'terminated' if terminated[e] else 'truncated'}</td>"
            f"<td>{'random' if e in random else ''}</td><td>{gap}</td><td>{replay}</td>"
            f"<td>{'<br>'.join(esc(r) for r in reasons)}</td></tr>")
    return ('<label><input type="checkbox" id="only-flagged"> only flagged episodes</label>'
            '<div class="scroll"><table id="episodes"><thead><tr><th>episode</th><th>seed</th>'
            "<th>return</th><th>length</th><th>attempts</th><th>end</th><th>policy</th>"
            "<th>expert divergence</th><th>replay</th>"
            f"<th>flags</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def clip_cards(clips: Sequence[Clip]) -> str:
    """The clips with their replay verdicts."""
    cards = []
    for clip in clips:
        verdict = '<span class="ok">replay matches the stored data</span>' if clip.matches \
            else '<span class="bad">replay differs</span>'
        media = image(clip.gif, f"episode {clip.episode}", "image/gif") if clip.gif \
            else f'<p class="muted">{esc(clip.note or "no frames")}</p>'
        cards.append(f'<div class="clip">{media}<div><b>episode {clip.episode}</b> '
                     f"({esc(clip.why)})<br>{verdict}: {esc(clip.detail)}</div></div>")
    return f'<div class="clips">{"".join(cards)}</div>'


def page(title: str, sections: Sequence[tuple[str, str]], metrics: dict[str, Any]) -> str:
    """The whole page; ``sections`` are ``(heading, html)``; the metrics JSON is embedded."""
    body = "".join(f"<h2>{esc(h)}</h2>{content}" for h, content in sections)
    data = json.dumps(metrics, allow_nan=False).replace("</", "<\\/")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{esc(title)}</h1>{body}"
            f'<script type="application/json" id="quality-metrics">{data}</script>'
            f"<script>{SCRIPT}</script></body></html>\n")
