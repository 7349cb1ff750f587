"""The collection's options, typed and set in one place: :class:`CollectOptions`.

``Controller(...)`` keyword arguments, ``il-datasets collect`` flags and YAML/JSON mappings
(through :func:`imitation_datasets.core.config.from_mapping` / ``with_overrides``) all fill this
one frozen dataclass; every field's ``metadata["help"]`` is its help text (the CLI shows it).
Parallelism has one name, ``workers``; ``threads`` is only the paper's alias for it in
``Controller(enjoy, collate, episodes, threads, path)`` (and ``amount`` the original alias of
``episodes``).

Which source wins: the Controller's options are fixed when it is built. ``start(opt)`` names the
run (``game``, ``mode``) and may also set the run options :data:`RUN_FIELDS` (``seed``,
``threshold``, ``max_attempts``, ``random``), as the paper's ``start`` did. An option is set in
one place: a value in ``start(opt)`` replaces the Controller's only where the Controller did not
set that option itself; both setting it to different values is a :class:`ConfigError`.

This module imports nothing heavy, so ``--help`` does not load the collection code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, get_args

from imitation_datasets.core.config import from_mapping, option
from imitation_datasets.core.errors import ConfigError

MAX_EPISODES = 10**7
"""Most episodes one dataset may have: the index of every episode is built before any work and
collate holds the whole dataset in memory, so larger requests are refused at once."""
DEFAULT_STEP_TIMEOUT = 300.0
"""Seconds a worker may hold episodes without finishing one (or, with a user ``enjoy``, without
starting its next attempt) before the run stops: generous for any real episode, short enough that
a ``step()`` that never returns does not hang the run for good."""
Mode = Literal["all", "play", "collate"]
"""What ``start(opt)`` does: play and collate, only play (stage episodes), only collate."""
MODES: tuple[str, ...] = get_args(Mode)
RUN_FIELDS = ("seed", "threshold", "max_attempts", "random")
"""The options ``start(opt)`` may set as well as the Controller (see the module docstring)."""
CLI_FLAGS = {"ray_address": "--address", "npz": "--no-npz", "progress": "--quiet"}
"""Fields whose ``il-datasets collect`` flag is not ``--<field-name>`` (the two ``--no``/``--quiet``
flags turn the field off). ``path`` is not a flag: the CLI's ``--out DIR`` is ``<path>/<game>``."""


@dataclass(frozen=True)
class CollectOptions:
    """How a dataset is collected (the CLI's ``collect`` options; ``Controller``'s keywords).

    Only ``episodes``, ``seed``, ``threshold``, ``max_attempts``, ``random``, ``npz``,
    ``mapped``, ``pixels``, ``size``, ``frame_stack``, ``action_noise`` and ``random_episodes``
    change the files written; the others change where, how fast, and how the run is shown.
    """

    episodes: int = option(1000, "episodes to keep (at most 10,000,000)")
    workers: int = option(1, "worker processes (Ray: actors); never more than the episodes "
                              "left to play, nor 4 per CPU locally; does not change the data")
    seed: int = option(0, "dataset seed: episode i is reset with episode_seed(seed, i, attempt)")
    threshold: float | None = option(None, "minimum episode return (default: the expert's "
                                            "threshold; none with random actions)")
    max_attempts: int = option(10, "attempts per episode before the run stops")
    random: bool = option(False, "play uniformly random actions (any Gymnasium id with Box, "
                                 "Discrete, Multi* or Dict/Tuple observations)")
    envs_per_worker: int | None = option(None, "environments stepped together in each worker "
                                                "(default: 4 for MuJoCo envs, 16 otherwise; "
                                                "does not change the data)")
    npz: bool = option(True, "also write teacher.npz beside the Parquet dataset")
    mapped: bool = option(False, "write the steps as memory-mapped .npy columns (steps/), "
                                 "streamed episode by episode, instead of steps.parquet: for "
                                 "datasets larger than memory (no teacher.npz)")
    pixels: bool = option(False, "record rendered frames (render_mode='rgb_array') as the "
                                 "observations while the expert acts on its state; PNG frames "
                                 "in steps/obs.arrow (implies --mapped)")
    size: tuple[int, ...] = option((84, 84), "frame height,width with --pixels")
    frame_stack: int = option(1, "with --pixels: frames per observation BaselineDataset returns "
                                 "by default (frames are stored once; recorded in metadata)")
    keep_states: bool = option(False, "with --pixels: also store the state observations the "
                                      "expert acted on (steps/state.npy, steps/final_state.npy)")
    action_noise: float = option(0.0, "sub-optimal data: epsilon of epsilon-random Discrete "
                                      "actions, or the std of Gaussian noise on Box actions in "
                                      "half action ranges (seeded per episode; no threshold "
                                      "unless --threshold)")
    random_episodes: float = option(0.0, "sub-optimal data: fraction of episodes played with "
                                         "uniformly random actions (chosen from each episode's "
                                         "seed; no threshold unless --threshold)")
    path: str = option("./dataset/", "datasets are written to <path>/<game>/")
    overwrite: bool = option(False, "replace a different dataset already in the output folder "
                                     "(refused otherwise)")
    backend: Literal["local", "ray"] = option("local", "local worker processes or Ray actors "
                                                        "(both give the same bytes)")
    ray_address: str | None = option(None, "Ray cluster address (e.g. auto or HOST:6379; "
                                             "default: an initialised or new local Ray)")
    step_timeout: float | None = option(
        DEFAULT_STEP_TIMEOUT, "seconds a worker may go without finishing an episode (a step that "
                              "never returns) before the run stops, keeping what was staged; "
                              "none waits forever")
    progress: bool = option(True, "show a progress bar")

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ConfigError(f"episodes must be a positive integer, got {self.episodes!r}")
        if self.episodes > MAX_EPISODES:
            raise ConfigError(f"episodes must be at most {MAX_EPISODES:,} per dataset, got "
                              f"{self.episodes:,}; collect several datasets instead")
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1 (threads in the paper's Controller), "
                              f"got {self.workers!r}")
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be >= 1, got {self.max_attempts!r}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed!r}")
        if self.envs_per_worker is not None and self.envs_per_worker < 1:
            raise ConfigError(f"envs_per_worker must be >= 1, got {self.envs_per_worker!r}")
        if not 1 <= self.frame_stack <= 64:
            raise ConfigError(f"frame_stack must be between 1 and 64, got {self.frame_stack!r}")
        if len(self.size) != 2 or not all(1 <= n <= 4096 for n in self.size):
            raise ConfigError(f"size must be two numbers, height,width, each 1..4096, got "
                              f"{self.size!r}")
        if not (0 <= self.random_episodes <= 1 and self.action_noise >= 0):
            raise ConfigError(f"random_episodes must be in [0, 1] and action_noise >= 0, got "
                              f"{self.random_episodes!r} and {self.action_noise!r}")
        if self.keep_states and not self.pixels:
            raise ConfigError("keep_states keeps the states beside the frames of a pixel "
                              "dataset: it needs pixels (--pixels)")
        if (self.action_noise or self.random_episodes) and (self.random or self.pixels):
            raise ConfigError("action_noise and random_episodes perturb an expert's state "
                              "episodes: not with random or pixels")
        if self.step_timeout is not None and not self.step_timeout > 0:
            raise ConfigError(f"step_timeout must be > 0 seconds or None, got "
                              f"{self.step_timeout!r}")


def run_options(base: CollectOptions, given: frozenset[str], opt: dict[str, Any],
                where: str = "start()") -> CollectOptions:
    """``base`` with the :data:`RUN_FIELDS` of ``opt`` applied under the one-place rule.

    Args:
        base: the Controller's options.
        given: the fields the Controller's caller set explicitly.
        opt: ``start``'s mapping without ``game`` and ``mode``; ``None`` values mean "not set".
        where: named in messages.

    Raises:
        ConfigError: a key of ``opt`` that is not a run option, or one the Controller set to
            another value.
    """
    changes: dict[str, Any] = {}
    for key, value in opt.items():
        if value is None:
            continue
        if key not in RUN_FIELDS:
            known = {f.name for f in dataclasses.fields(CollectOptions)} | {"threads"}
            if key in known:
                raise ConfigError(f"{where}: {key!r} is set on Controller(...), not in start(); "
                                  f"start() takes 'game', 'mode' and {', '.join(RUN_FIELDS)}")
            from_mapping(_RunKeys, {key: value}, where)  # raises with did-you-mean
        changes[key] = value
    checked = from_mapping(_RunKeys, changes, where)
    for key in changes:
        value = getattr(checked, key)
        if key in given and value != getattr(base, key):
            raise ConfigError(
                f"{where}: {key}={value!r} but the Controller was built with "
                f"{key}={getattr(base, key)!r}; set {key} in one place")
    return dataclasses.replace(base, **{k: getattr(checked, k) for k in changes})


@dataclass(frozen=True)
class _RunKeys:
    """The keys ``start(opt)`` accepts, for did-you-mean errors and type checks."""

    game: str | None = None
    mode: Mode | None = None
    seed: int | None = None
    threshold: float | None = None
    max_attempts: int | None = None
    random: bool | None = None
