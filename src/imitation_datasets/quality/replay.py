"""Replay recorded episodes from their reset seeds: a determinism audit, and frames for clips.

Episodes are seeded, so a dataset needs no stored frames: ``env.reset(seed=episode_seed)`` and
the recorded actions, stepped one by one, must give back the recorded observations and rewards
exactly (the stored dtype). Any difference (a tampered action, another simulator version, an
environment whose reset does not determine the episode) is reported with the first step where
it happens. Frames are rendered with ``render_mode="rgb_array"`` on a few evenly spaced steps.

The environment id comes from the dataset's metadata: it must already be registered with
Gymnasium (``core.safe_paths.registered_env_id``; a ``module:Env`` id is refused) and its
keyword arguments must be plain values, so nothing read from the file reaches an import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.extras import env_extra, missing_modules
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.safe_paths import registered_env_id, safe_env_kwargs
from imitation_datasets.data.arrays import DatasetArrays

OFFSCREEN_GL = ("egl", "osmesa")
"""``MUJOCO_GL`` values that render without a display."""


class ReplayError(OneLineError, ValueError):
    """An episode cannot be replayed (unknown environment, no seed, missing extra)."""


@dataclass
class Replay:
    """The outcome of replaying one episode.

    Attributes:
        episode: episode index.
        matches: every observation and reward equal to the recorded one.
        first_mismatch: first step whose resulting observation or reward differs (``None``).
        detail: what differed there (max absolute difference), or why nothing was compared.
        frames: ``(step, rgb uint8 H x W x 3)`` for the rendered steps.
        render_note: why no frames were rendered, if none were.
    """

    episode: int
    matches: bool
    first_mismatch: int | None = None
    detail: str = ""
    frames: list[tuple[int, np.ndarray]] = field(default_factory=list)
    render_note: str = ""


def replay_env_id(metadata: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The registered env id and plain kwargs the metadata names, checked.

    Raises:
        ReplayError: no environment in the metadata.
        ValueError: an id that is not registered, or kwargs that are not plain values.
    """
    env = (metadata or {}).get("env") or {}
    if not env.get("id"):
        raise ReplayError("the dataset's metadata names no environment; nothing to replay")
    env_id = registered_env_id(env["id"], source="metadata.json", field="env.id",
                               error=ReplayError)
    kwargs = safe_env_kwargs(env.get("kwargs") or {}, source="metadata.json",
                             field="env.kwargs", error=ReplayError)
    return env_id, kwargs


def render_blocker(env_id: str) -> str | None:
    """Why frames of ``env_id`` cannot be rendered here (``None`` when they can be tried)."""
    extra = env_extra(env_id)
    if extra is not None and missing_modules(extra):
        return f"{env_id} needs pip install \"imitation-datasets[{extra}]\""
    if extra == "mujoco" and os.environ.get("MUJOCO_GL", "").lower() not in OFFSCREEN_GL:
        return ("MuJoCo renders without a display only with an offscreen GL backend: set "
                "MUJOCO_GL=egl (GPU) or MUJOCO_GL=osmesa (CPU) to get clips")
    return None


def _same(observed: Any, recorded: np.ndarray) -> tuple[bool, float]:
    observed = np.asarray(observed).astype(recorded.dtype, copy=False).reshape(recorded.shape)
    if np.array_equal(observed, recorded):
        return True, 0.0
    gap = np.abs(observed.astype(np.float64) - recorded.astype(np.float64))
    return False, float(np.nanmax(gap)) if gap.size else 0.0


def replay_episode(arrays: DatasetArrays, episode: int, env_id: str, kwargs: dict[str, Any],
                   frames: int = 0, width: int = 240, compare_obs: bool = True) -> Replay:
    """Replay ``episode`` and compare; render ``frames`` evenly spaced steps (0: none).

    ``compare_obs=False`` compares rewards only (a pixel dataset's observations are frames,
    not the states the environment returns). A mismatch ends the replay at that step (what
    follows would differ anyway).
    """
    seed = int(arrays.seeds[episode])
    if seed < 0:
        return Replay(episode, False, None, "no reset seed recorded; cannot replay")
    blocker = render_blocker(env_id) if frames else None
    render = bool(frames) and blocker is None
    env = make_env(env_id, {**kwargs, **({"render_mode": "rgb_array"} if render else {})})
    start, length = int(arrays.starts[episode]), int(arrays.lengths[episode])
    keep = set(np.linspace(0, length, min(frames, length + 1)).round().astype(int).tolist()) \
        if render else set()
    result = Replay(episode, True, render_note=blocker or "")
    try:
        obs, _ = env.reset(seed=seed)
        for step in range(length + 1):
            recorded = None if not compare_obs else (
                np.asarray(arrays.obs[start + step]) if step < length else
                (None if arrays.final_obs is None else np.asarray(arrays.final_obs[episode])))
            if recorded is not None:
                same, gap = _same(obs, recorded)
                if not same:
                    result.matches, result.first_mismatch = False, step
                    result.detail = (f"observation after step {step - 1} differs by up to "
                                     f"{gap:.3g}" if step else
                                     f"reset observation differs by up to {gap:.3g}")
                    break
            if step in keep:
                _add_frame(result, env, step, width)
            if step == length:
                break
            action = arrays.actions[start + step]
            action = int(action) if np.ndim(action) == 0 else np.asarray(action)
            obs, reward, _, _, _ = env.step(action)
            if float(reward) != float(arrays.rewards[start + step]):
                result.matches, result.first_mismatch = False, step + 1
                result.detail = (f"reward of step {step} is {float(reward):.6g}, recorded "
                                 f"{float(arrays.rewards[start + step]):.6g}")
                break
    finally:
        env.close()
    if result.matches:
        result.detail = f"all {length} steps reproduced exactly" if compare_obs else \
            f"all {length} rewards reproduced exactly (observations are frames: not compared)"
    return result


def _add_frame(result: Replay, env: Any, step: int, width: int) -> None:
    """Render the current state, shrunk to ``width`` pixels wide (a note on failure)."""
    if result.render_note:
        return
    try:
        frame = np.asarray(env.render())
    except Exception as exc:  # noqa: BLE001 - a renderer's failure becomes a note, not a crash
        result.render_note = f"rendering failed: {type(exc).__name__}: {exc}"
        return
    if frame.ndim != 3 or frame.shape[2] < 3:
        result.render_note = f"render() gave an array of shape {frame.shape}, not RGB"
        return
    stride = max(1, frame.shape[1] // width)
    result.frames.append((step, np.ascontiguousarray(frame[::stride, ::stride, :3])))
