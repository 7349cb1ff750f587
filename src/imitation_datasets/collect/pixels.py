"""Pixel-observation datasets: the expert acts on its state, the dataset records rendered frames.

``il-datasets collect KEY --pixels [--size H,W]`` plays exactly the episodes a state dataset of
the same seed would (same resets, same actions: the policy still reads the state), and records
for every step the frame rendered *before* the action (``render_mode="rgb_array"``), resized to
``H x W`` RGB, plus the frame after the last step as the final observation.

* :class:`FrameRecorder` wraps each environment: it renders after every ``reset`` and ``step``;
* :class:`PixelRunner` is the :class:`~imitation_datasets.core.rollout.EpisodeRunner` whose
  finished episodes carry those frames as observations.

Frames are resized with Pillow's bilinear filter, which works in fixed-point integer arithmetic
for 8-bit images: the same frame gives the same bytes on any machine (with the same Pillow).
Classic-control and Box2D environments render through pygame (software surfaces, no GPU):
their frames are byte-identical across machines and worker counts. MuJoCo renders through
OpenGL (EGL or OSMesa, chosen by ``MUJOCO_GL``); GPU drivers may round differently, so MuJoCo
frames are only reproducible on the same rendering stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.episode import Episode
from imitation_datasets.core.errors import OneLineError
from imitation_datasets.core.rollout import EpisodeRunner, Outcome, make_env


class RenderError(OneLineError):
    """An environment cannot render frames here (a missing package or GL backend)."""


@dataclass(frozen=True)
class PixelSpec:
    """The frames a pixel dataset records: ``height x width`` RGB, uint8.

    ``frame_stack`` is recorded in the metadata: frames are stored once, and ``BaselineDataset``
    returns stacks of that many by default. ``keep_states`` also stores the state observations
    the expert acted on (``steps/state.npy``, ``steps/final_state.npy``).
    """

    height: int = 84
    width: int = 84
    frame_stack: int = 1
    keep_states: bool = False

    def __post_init__(self) -> None:
        if not (1 <= self.height <= 4096 and 1 <= self.width <= 4096):
            raise ValueError(f"frame size must be between 1 and 4096 pixels a side, got "
                             f"{self.height}x{self.width}")
        if not 1 <= self.frame_stack <= 64:
            raise ValueError(f"frame_stack must be between 1 and 64, got {self.frame_stack}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``."""
        return (self.height, self.width, 3)

    def to_json(self) -> dict[str, Any]:
        """What the run description and the metadata record."""
        described: dict[str, Any] = {
            "height": self.height, "width": self.width, "channels": 3,
            "frame_stack": self.frame_stack, "render_mode": "rgb_array",
            "resize": "PIL bilinear"}
        if self.keep_states:  # only then: runs without it keep their fingerprint and bytes
            described["keep_states"] = True
        return described


def pixel_space(spec: PixelSpec) -> dict[str, Any]:
    """The metadata's ``observation_space`` of a pixel dataset: a uint8 ``Box(0, 255)``.

    Its bounds are written as the numbers 0 and 255 (``compact``), not as lists of ``H*W*3``.
    """
    from imitation_datasets.data.schema import space_to_dict

    return space_to_dict(gym.spaces.Box(0, 255, spec.shape, np.uint8), compact=True)


def resize(frame: np.ndarray, spec: PixelSpec) -> np.ndarray:
    """``frame`` (``H x W x 3`` uint8) resized to the spec's size (Pillow bilinear)."""
    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    if frame.shape == spec.shape:
        return frame
    from PIL import Image

    image = Image.fromarray(frame[..., :3]).resize((spec.width, spec.height),
                                                   Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


class FrameRecorder(gym.Wrapper):
    """Renders a frame after every ``reset`` and ``step`` into :attr:`frames` (one episode)."""

    def __init__(self, env: gym.Env, spec: PixelSpec) -> None:
        super().__init__(env)
        self.pixels = spec
        self.frames: list[np.ndarray] = []

    def _record(self) -> None:
        frame = self.env.render()
        if not isinstance(frame, np.ndarray) or frame.ndim != 3:
            raise RenderError(f"{self.env.spec.id if self.env.spec else self.env}: render() "
                              f"returned {type(frame).__name__}, not an RGB frame")
        self.frames.append(resize(frame, self.pixels))

    def reset(self, **kwargs: Any) -> Any:
        """Reset, and start the episode's frames with the first one."""
        result = self.env.reset(**kwargs)
        self.frames = []
        self._record()
        return result

    def step(self, action: Any) -> Any:
        """Step, and record the frame reached."""
        result = self.env.step(action)
        self._record()
        return result


def pixel_env_fn(env_id: str, env_kwargs: dict[str, Any], spec: PixelSpec
                 ) -> Callable[[], gym.Env]:
    """A factory of ``env_id`` environments rendering ``rgb_array`` frames, recorded."""
    def make() -> gym.Env:
        return FrameRecorder(make_env(env_id, {**env_kwargs, "render_mode": "rgb_array"}), spec)
    return make


class PixelRunner(EpisodeRunner):
    """An :class:`EpisodeRunner` whose episodes hold rendered frames as observations.

    The policy acts on the environment's own (state) observations; each finished episode's
    ``obs`` are the frames rendered before each action and ``final_obs`` the frame after the
    last step; with ``spec.keep_states``, ``states`` and ``final_state`` are the state
    observations.
    """

    def __init__(self, env_id: str, env_kwargs: dict[str, Any], spec: PixelSpec,
                 policy: Any = None, n_envs: int = 16, random_actions: bool = False) -> None:
        check_rendering(env_id)
        self.keep_states = spec.keep_states
        super().__init__(pixel_env_fn(env_id, env_kwargs, spec), policy, n_envs=n_envs,
                         random_actions=random_actions)

    def _finish(self, slot: Any, final_obs: np.ndarray, terminated: bool, truncated: bool
                ) -> Outcome:
        outcome = super()._finish(slot, final_obs, terminated, truncated)
        state = outcome.episode
        assert state is not None
        frames = slot.env.frames
        if len(frames) != state.length + 1:
            raise RenderError(f"recorded {len(frames)} frames for {state.length} steps")
        outcome.episode = Episode(
            obs=np.stack(frames[:-1]), actions=state.actions, rewards=state.rewards,
            final_obs=frames[-1], terminated=state.terminated, truncated=state.truncated,
            seed=state.seed, states=state.obs if self.keep_states else None,
            final_state=state.final_obs if self.keep_states else None)
        return outcome


def check_rendering(env_id: str) -> None:
    """Fail early, in one line naming what to install, where ``env_id`` cannot render here.

    Raises:
        RenderError: pygame missing (classic control, Box2D) or no OpenGL backend (MuJoCo).
    """
    try:
        entry = str(gym.spec(env_id).entry_point)
    except gym.error.Error:
        return  # an unknown id fails later with the registry's message
    if "mujoco" in entry:
        _check_gl(env_id)
        return
    try:
        import pygame  # noqa: F401
    except ImportError:
        raise RenderError(f"{env_id}: rendering needs pygame: pip install "
                          "\"imitation-datasets[pixels]\" (or gymnasium[classic-control])"
                          ) from None


GL_PROBE = """
import sys, warnings
warnings.simplefilter("ignore")
import gymnasium as gym
env = gym.make(sys.argv[1], render_mode="rgb_array")
env.reset(seed=0)
frame = env.render()
env.close()
assert frame is not None and frame.ndim == 3, "no RGB frame"
"""
"""Renders one MuJoCo frame. It runs in a child process: a GL backend that fails to start may
abort the process that tried (GLFW does, on a second attempt), which must not be the collector."""


def _check_gl(env_id: str) -> None:
    import subprocess
    import sys

    backend = os.environ.get("MUJOCO_GL", "")
    try:
        probe = subprocess.run([sys.executable, "-c", GL_PROBE, env_id], capture_output=True,
                               text=True, timeout=300)
    except subprocess.TimeoutExpired:
        reason = "rendering one frame took more than 300 s"
    else:
        if probe.returncode == 0:
            return
        lines = [line for line in probe.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {probe.returncode}"
    raise RenderError(
        f"{env_id}: MuJoCo cannot render offscreen here (MUJOCO_GL={backend or 'unset'}: "
        f"{reason}); install EGL (libegl1, with a GPU driver) and set MUJOCO_GL=egl, or OSMesa "
        "(libosmesa6) and set MUJOCO_GL=osmesa")
