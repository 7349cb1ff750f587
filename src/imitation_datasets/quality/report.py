"""``dataset_report(path)``: one self-contained HTML page about a dataset.

The page holds the provenance card (metadata and content fingerprint), the quality metrics
(:mod:`.measure`), plots (:mod:`.plots`), the episode table with its flags, and short clips of
selected episodes replayed from their seeds (:mod:`.replay`): the best, median and worst
returns and the first flagged episodes. Besides the clips, ``audit`` evenly spaced episodes are
replayed without frames; every replayed episode must reproduce its stored observations and
rewards exactly, and the page says which did not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.atomic import atomic_write_text
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.data.fingerprint import content_fingerprint
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.schema import dataset_spaces
from imitation_datasets.quality import plots
from imitation_datasets.quality.clips import gif
from imitation_datasets.quality.measure import Measured, json_ready, measure
from imitation_datasets.quality.options import QualityOptions, ReportOptions, default_out
from imitation_datasets.quality.page import (
    Clip,
    clip_cards,
    episode_table,
    esc,
    image,
    metric_cards,
    page,
    provenance,
)
from imitation_datasets.quality.replay import Replay, ReplayError, replay_env_id, replay_episode


@dataclass
class ReportResult:
    """What :func:`dataset_report` wrote and found."""

    path: Path
    replayed: dict[int, Replay] = field(default_factory=dict)
    clip_bytes: int = 0

    @property
    def mismatches(self) -> list[int]:
        """Replayed episodes that did not reproduce their stored data."""
        return sorted(e for e, r in self.replayed.items() if not r.matches)


def clip_episodes(returns: np.ndarray, flagged: dict[str, list[str]], count: int
                  ) -> list[tuple[int, str]]:
    """``(episode, why)``: best, median and worst return, then flagged episodes, no repeats."""
    order = np.argsort(returns, kind="stable")
    picks = [(int(order[-1]), "highest return"), (int(order[len(order) // 2]), "median return"),
             (int(order[0]), "lowest return"),
             *[(int(e), "flagged") for e in sorted(flagged, key=int)]]
    chosen: dict[int, str] = {}
    for episode, why in picks:
        if len(chosen) >= count:
            break
        chosen.setdefault(episode, why)
    return list(chosen.items())


def _plots(measured: Measured, action_space: gym.Space) -> list[tuple[str, str]]:
    arrays, sample = measured.loaded.arrays, measured.sample
    returns = arrays.returns
    figures = [image(plots.returns_and_lengths(returns, arrays.lengths), "returns and lengths")]
    if isinstance(action_space, gym.spaces.Discrete):
        figures.append(image(plots.action_distribution(sample.actions, int(action_space.n),
                                                       int(action_space.start)), "actions"))
    else:
        figures.append(image(plots.action_distribution(sample.actions, None), "actions"))
    if measured.normalise is not None:
        states = measured.normalise(sample.states)
        figures.append(image(plots.state_projection(states, returns[sample.episodes]),
                             "states, PCA"))
    cells = [f'<div class="wide">{figures[0]}</div>', *(f"<div>{f}</div>" for f in figures[1:])]
    return [("Plots", '<div class="grid">' + "".join(cells) + "</div>")]


def _replays(loaded: LoadedData, clips: list[tuple[int, str]], options: ReportOptions
             ) -> tuple[dict[int, Replay], list[Clip], str]:
    try:
        env_id, kwargs = replay_env_id(loaded.metadata)
    except ReplayError as exc:
        return {}, [], str(exc)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame renders offscreen
    arrays = loaded.arrays
    states = _has_states(loaded.metadata or {})
    replayed: dict[int, Replay] = {}
    shown = []
    for episode, why in clips:
        replay = replay_episode(arrays, episode, env_id, kwargs, options.frames, options.width,
                                compare_obs=states)
        replayed[episode] = replay
        data = gif([f for _, f in replay.frames]) if replay.frames else None
        shown.append(Clip(episode, why, replay.matches, replay.detail, data,
                          replay.render_note))
    audit = np.unique(np.linspace(0, arrays.n_episodes - 1, min(options.audit,
                                                                 arrays.n_episodes)).round())
    for episode in audit.astype(int).tolist():
        if episode not in replayed:
            replayed[episode] = replay_episode(arrays, episode, env_id, kwargs,
                                               compare_obs=states)
    return replayed, shown, ""


def _audit_summary(replayed: dict[int, Replay], note: str, states: bool) -> str:
    if note:
        return f'<p class="muted">{esc(note)}</p>'
    bad = [r for r in replayed.values() if not r.matches]
    what = "observations and rewards" if states else "rewards (observations are frames)"
    if not bad:
        return (f'<p><span class="ok">All {len(replayed)} replayed episodes reproduce their '
                f"stored {what} exactly</span> (reset from the episode seed, recorded actions "
                "stepped in order).</p>")
    items = "".join(f"<li>episode {r.episode}: {esc(r.detail)}</li>" for r in bad)
    return (f'<p><span class="bad">{len(bad)} of {len(replayed)} replayed episodes differ from '
            f"the stored data</span>: the actions, the simulator version or the environment's "
            f"seeding do not reproduce them.</p><ul>{items}</ul>")


def dataset_report(path: str | Path | LoadedData, out: str | Path | None = None,
                   options: ReportOptions | None = None,
                   quality: QualityOptions | None = None) -> ReportResult:
    """Write the report of a dataset; returns where, and every replay's outcome.

    Args:
        path: a dataset (anything ``BaselineDataset`` reads) or loaded data.
        out: the HTML file (default: ``<dataset>-report.html`` beside a local dataset).
        options: clips, frames and replay audit.
        quality: how the metrics are estimated.
    """
    options = options or ReportOptions()
    measured = measure(path, quality)
    loaded = measured.loaded
    if out is None:
        if isinstance(path, LoadedData):
            raise ConfigError("out is needed for data already in memory")
        out = default_out(path)
    metadata = loaded.metadata or {}
    arrays = loaded.arrays
    _, action_space = dataset_spaces(loaded.metadata, arrays.obs, arrays.actions)
    metrics = json_ready(measured.metrics)
    clips = clip_episodes(arrays.returns, metrics["flags"]["flagged"], options.clips)
    replayed, shown, note = _replays(loaded, clips, options)
    env_id = (metadata.get("env") or {}).get("id") or "dataset"
    sections: list[tuple[str, str]] = [
        ("Provenance", provenance(metadata, content_fingerprint(arrays), loaded.origin)),
        ("Quality", metric_cards(metrics)),
        *_plots(measured, action_space),
        ("Clips and replay check",
         clip_cards(shown) + _audit_summary(replayed, note, _has_states(metadata))),
        ("Episodes", episode_table(arrays.returns, arrays.lengths, arrays.seeds, arrays.attempts,
                                   _terminated(arrays), metrics["flags"]["flagged"],
                                   {e: r.matches for e, r in replayed.items()},
                                   measured.episode_divergence,
                                   _random_episodes(metadata, arrays.n_episodes))),
    ]
    title = f"{env_id}: {arrays.n_episodes} episodes, {arrays.n_steps} steps"
    out = Path(out)
    atomic_write_text(out, page(title, sections, metrics))
    return ReportResult(out, replayed, sum(len(c.gif or b"") for c in shown))


def _has_states(metadata: dict[str, Any]) -> bool:
    """Whether the stored observations are the environment's (not frames of a pixel run)."""
    return "pixels" not in (metadata.get("collection") or {})


def _random_episodes(metadata: dict[str, Any], episodes: int) -> frozenset[int]:
    """Episodes the metadata says were played with random actions (all, or a mixture's)."""
    collection = metadata.get("collection") or {}
    if collection.get("random_actions") is True:
        return frozenset(range(episodes))
    indices = (collection.get("noise") or {}).get("random_episode_indices") or []
    return frozenset(i for i in indices if isinstance(i, int))


def _terminated(arrays: Any) -> np.ndarray:
    ends = arrays.starts + arrays.lengths - 1
    return np.asarray(arrays.terminated[ends], dtype=bool)
