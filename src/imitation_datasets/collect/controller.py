"""The Controller: play episodes on a pool of persistent workers, then collate them.

Usage (the IL-Datasets paper's snippet)::

    Controller(baseline_enjoy, baseline_collate, episodes=1000, threads=4).start(
        {"game": "cartpole", "mode": "all"})

Guarantees:

* episode ``i`` is reset with ``episode_seed(seed, i, attempt)``; a rejected attempt (return below
  the threshold) is retried with the next attempt's seed, at most ``max_attempts`` times;
* the dataset depends only on the arguments, never on ``workers`` or scheduling;
* episodes are staged atomically; rerunning an interrupted run resumes it and ends with the same
  bytes as an uninterrupted run; a run with other arguments never reads this run's files;
* one process writes a dataset folder at a time, and the folder is replaced whole (built beside
  it, then renamed in; :mod:`imitation_datasets.collect.folder`); another dataset already there
  is only replaced with ``overwrite=True``; other runs' staged episodes are never deleted;
* resuming and "already complete" need the policy's identity
  (:func:`imitation_datasets.experts.policy.policy_identity`); without one, a run plays afresh.

The options are a :class:`~imitation_datasets.collect.options.CollectOptions` (one place, one
rule for ``start(opt)``: see :mod:`imitation_datasets.collect.options`). The steps live in their
own modules: :mod:`~imitation_datasets.collect.run_description` (what the run is),
:mod:`~imitation_datasets.collect.resume` (is it done already),
:mod:`~imitation_datasets.collect.scheduling` (the play phase),
:mod:`~imitation_datasets.collect.collate` (the dataset and its metadata).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing as mp
import os
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imitation_datasets.collect.collate import collate_run
from imitation_datasets.collect.folder import DatasetFolder, OutFolderError
from imitation_datasets.collect.functions import (
    DatasetCollate,
    RecordingEnjoy,
    baseline_enjoy,
    policy_env,
    random_enjoy,
)
from imitation_datasets.collect.noise import NoiseSpec, describe_noise
from imitation_datasets.collect.options import MODES, RUN_FIELDS, CollectOptions, run_options
from imitation_datasets.collect.pixels import PixelSpec, check_rendering
from imitation_datasets.collect.player import PlaySpec
from imitation_datasets.collect.resume import holds_dataset, report_kept_stagings
from imitation_datasets.collect.run_description import (
    RunDescription,
    default_envs_per_worker,
    describe_run,
)
from imitation_datasets.collect.scheduling import check_policy, play_run
from imitation_datasets.collect.staging import Staging, fingerprint
from imitation_datasets.collect.tally import CollectionError
from imitation_datasets.collect.worker import WorkerSpec
from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.extras import require_env_extra
from imitation_datasets.core.rollout import ActionSpaceError, make_env
from imitation_datasets.experts.curated import CuratedExpert
from imitation_datasets.experts.registry import Experts

__all__ = ["ActionSpaceError", "CollectionError", "Controller", "OutFolderError"]

logger = logging.getLogger(__name__)

MAIN_GUARD_HELP = (
    "Controller.start() ran inside a worker process that was importing your script. "
    "This platform starts workers by re-importing the main module, so put the code that "
    "creates the dataset under\n\n    if __name__ == \"__main__\":\n"
    "        Controller(...).start(...)\n"
)


class Controller:
    """Create a dataset with ``episodes`` accepted episodes using ``workers`` worker processes.

    Every option is a field of :class:`~imitation_datasets.collect.options.CollectOptions` (its
    help says what it does); ``threads`` is the paper's name for ``workers`` and ``amount`` for
    ``episodes``. :meth:`from_options` builds a Controller from a whole ``CollectOptions``.

    Args:
        enjoy: plays one episode: ``baseline_enjoy``/``random_enjoy`` (fast built-in path) or a
            user function ``enjoy(expert, path, context) -> bool`` (``context.seed`` is the reset
            seed to use).
        collate: ``baseline_collate`` (writes the dataset directory) or a user function
            ``collate(path, data) -> bool``.
        episodes: number of episodes to keep.
        threads: the paper's name for ``workers`` (give one of the two).
        path: datasets are written to ``<path>/<game>/``.
        expert: a policy to use instead of looking ``game`` up in the registry.
        command: how the run was started (recorded in the metadata).
        **options: the other fields of ``CollectOptions`` (``workers``, ``seed``, ``threshold``,
            ``max_attempts``, ``random``, ``envs_per_worker``, ``progress``, ``backend``,
            ``ray_address``, ``step_timeout``, ``overwrite``; ``npz`` is the collate's own);
            ``envs_per_worker=None`` is
            :func:`~imitation_datasets.collect.run_description.default_envs_per_worker`.

    Raises:
        ConfigError: an unknown option, a value of the wrong type or out of range (a
            ``ValueError``).
    """

    def __init__(
        self,
        enjoy: Callable[..., Any],
        collate: Callable[..., Any],
        episodes: int | None = None,
        threads: int | None = None,
        path: str | os.PathLike[str] | None = None,
        *,
        amount: int | None = None,
        expert: Any = None,
        command: str | None = None,
        **options: Any,
    ) -> None:
        if episodes is not None:
            options["episodes"] = episodes
        for alias, name, value in (("amount", "episodes", amount), ("threads", "workers", threads)):
            if value is not None:
                if options.get(name, value) != value:
                    raise ConfigError(f"Controller: {alias}={value!r} and {name}="
                                      f"{options[name]!r}; {alias} is the paper's name for "
                                      f"{name}: give one of them")
                options[name] = value
        for name in ("npz", "mapped"):  # properties of the collate function, given here
            if name in options:
                raise ConfigError(f"Controller: {name} is chosen by the collate function: pass "
                                  f"DatasetCollate('baseline_collate', {name}=...) as collate, "
                                  "or use Controller.from_options")
        if "episodes" not in options:
            raise ConfigError("Controller: episodes must be a positive integer, got None")
        if path is not None:
            options["path"] = os.fspath(path)
        self.options = from_mapping(CollectOptions, _coerced(options), "Controller")
        self.given = frozenset(options)
        """The options the caller set (``start(opt)`` may not change these; see ``options``)."""
        if self.options.backend == "ray" and not isinstance(enjoy, RecordingEnjoy):
            raise ConfigError("backend='ray' runs the built-in baseline_enjoy/random_enjoy; "
                              "custom enjoy functions run on the local backend")
        self.enjoy = enjoy
        self.collate = collate
        self.expert = expert
        self.command = command
        self.last_run: dict[str, Any] = {}
        """Statistics of the last play phase (empty until one ran)."""

    @classmethod
    def from_options(cls, options: CollectOptions, *, expert: Any = None,
                     command: str | None = None) -> Controller:
        """A Controller with the built-in enjoy and collate functions and every option set.

        ``options.random`` chooses ``random_enjoy``, ``options.npz`` whether ``teacher.npz`` is
        written; ``start(opt)`` may then only name the ``game`` (and ``mode``).
        """
        values = dataclasses.asdict(options)
        random, npz, mapped = values.pop("random"), values.pop("npz"), values.pop("mapped")
        mapped = mapped or options.pixels  # frames are written compressed, episode by episode
        return cls(random_enjoy if random else baseline_enjoy,
                   DatasetCollate("baseline_collate", npz=npz and not mapped, mapped=mapped),
                   expert=expert, command=command, **values)

    # ------------------------------------------------------------------ public API
    def start(self, opt: dict[str, Any] | Namespace) -> Path:
        """Run ``opt["mode"]`` (``all``, ``play`` or ``collate``) for expert ``opt["game"]``.

        ``opt`` may also set ``seed``, ``threshold``, ``max_attempts`` and ``random`` where the
        Controller did not set them (:func:`~imitation_datasets.collect.options.run_options`);
        an ``argparse.Namespace`` may carry other attributes of the user's own (ignored).

        The dataset folder ``<path>/<game>`` has one writer at a time and is replaced whole (see
        :mod:`imitation_datasets.collect.folder`). A folder that already holds this dataset is
        left as it is; one that holds another dataset is only replaced with ``overwrite=True``.
        Staged episodes of other runs in the folder are kept, and reported.

        Returns:
            The dataset directory.

        Raises:
            ConfigError: ``opt`` has no ``game``, an unknown mode or key, or an option set both
                here and on the Controller (a ``ValueError``).
            CollectionError: an episode never reached the threshold, or workers kept crashing.
            OutFolderError: the folder is busy, holds another dataset, or cannot be written.
            ActionSpaceError: the policy's actions do not fit the action space.
        """
        if getattr(mp.current_process(), "_inheriting", False):
            # a spawned worker is importing the user's script (no __main__ guard)
            raise RuntimeError(MAIN_GUARD_HELP)
        game, mode, options = self._run_options(opt)
        random_actions = options.random or (
            isinstance(self.enjoy, RecordingEnjoy) and self.enjoy.random_actions)
        policy = self.expert if self.expert is not None else Experts.get_expert(game)
        noise = NoiseSpec(options.action_noise, options.random_episodes)
        noise_json = None if not noise.active else describe_noise(*policy_env(policy), noise)
        threshold = options.threshold
        if threshold is None:
            threshold = -math.inf if random_actions or noise.active else float(policy.threshold)
        height, width = options.size
        pixels = PixelSpec(height, width, options.frame_stack, options.keep_states) \
            if options.pixels else None
        description = describe_run(policy, options.seed, threshold, options.max_attempts,
                                   random_actions, self.enjoy,
                                   None if pixels is None else pixels.to_json(), noise_json)
        env_id = description.run["env_id"]
        require_env_extra(env_id)  # one line naming our extra, before any worker starts
        if pixels is not None:
            check_rendering(env_id)  # one line naming pygame or the GL backend to install
        if not isinstance(policy, CuratedExpert):  # any Gymnasium id: check its spaces here
            make_env(env_id, description.run["env_kwargs"]).close()
        user_enjoy = None if isinstance(self.enjoy, RecordingEnjoy) else self.enjoy
        if noise.active and user_enjoy is not None:
            raise ConfigError("action_noise and random_episodes need the built-in enjoy "
                              "(baseline_enjoy); a custom enjoy plays its own actions")
        play = PlaySpec(
            env_id=env_id, env_kwargs=description.run["env_kwargs"],
            policy=None if random_actions and user_enjoy is None else policy,
            random_actions=random_actions, dataset_seed=options.seed, threshold=threshold,
            max_attempts=options.max_attempts,
            n_envs=(default_envs_per_worker(env_id) if options.envs_per_worker is None
                    else options.envs_per_worker),
            pixels=pixels, noise=noise if noise.active else None,
        )
        folder = DatasetFolder(Path(options.path) / game)
        staging = Staging(folder.path, fingerprint(description.run), description.resumable)
        spec = WorkerSpec(play=play, staging=staging, user_enjoy=user_enjoy,
                          step_timeout=options.step_timeout)
        # a complete folder is only ever replaced whole: reading it needs no lock, so runs that
        # find their dataset complete (parallel benchmark cells) never contend for it
        if mode != "play" and self._complete(folder, spec, options, strict=False):
            return folder.path
        with folder.lock():
            folder.recover()
            self._run_locked(mode, folder, spec, options, description)
        return folder.path

    def _run_options(self, opt: dict[str, Any] | Namespace) -> tuple[str, str, CollectOptions]:
        """``(game, mode, options)`` of one ``start(opt)``."""
        if isinstance(opt, Namespace):  # the user's argparse result: only our keys are read
            opt = {k: v for k, v in vars(opt).items() if k in ("game", "mode", *RUN_FIELDS)}
        if not isinstance(opt, dict):
            raise TypeError(f"start() takes a dict or argparse.Namespace, got {type(opt).__name__}")
        if "game" not in opt:
            raise ConfigError(
                "start() needs a 'game' entry naming the expert, e.g. {'game': 'cartpole'}")
        rest = dict(opt)
        game, mode = str(rest.pop("game")), rest.pop("mode", None) or "all"
        if mode not in MODES:
            raise ConfigError(f"start(): unknown mode {mode!r}; expected one of "
                              f"{', '.join(MODES)}")
        return game, mode, run_options(self.options, self.given, rest)

    def _complete(self, folder: DatasetFolder, spec: WorkerSpec, options: CollectOptions,
                  strict: bool) -> bool:
        """Whether the folder holds this dataset; refusals raise only when ``strict``."""
        whole = spec.user_enjoy is None and isinstance(self.collate, DatasetCollate)
        try:
            done = holds_dataset(folder, spec.staging, options.episodes, self.collate, whole,
                                 options.overwrite)
        except OutFolderError:
            if strict:
                raise
            return False
        if done:
            logger.info("%s: already complete for these arguments; nothing to do", folder.path)
        return done

    def _run_locked(self, mode: str, folder: DatasetFolder, spec: WorkerSpec,
                    options: CollectOptions, description: RunDescription) -> None:
        if mode != "play" and self._complete(folder, spec, options, strict=True):
            return
        report_kept_stagings(folder, spec.staging)
        if mode in ("all", "play"):
            spec.staging.create(description.run)
            if spec.user_enjoy is None:
                check_policy(spec.play)
            stats: dict[str, Any] = {}
            try:
                play_run(spec, options.episodes, options.workers, options.backend,
                         options.ray_address, options.progress, stats)
            finally:
                if stats:
                    self.last_run = stats
        if mode in ("all", "collate"):
            collate_run(spec, folder, description, options.episodes, self.collate,
                        self.command or self._default_command(description.run))

    def _default_command(self, run: dict[str, Any]) -> str:
        return (f"Controller({run['enjoy']}, {self.collate!r}, episodes={self.options.episodes}, "
                f"seed={run['dataset_seed']}, threshold={run['threshold']}, "
                f"max_attempts={run['max_attempts']}).start(...)")


_INTS = ("episodes", "workers", "seed", "max_attempts", "envs_per_worker")
_FLOATS = ("threshold", "step_timeout")


def _coerced(options: dict[str, Any]) -> dict[str, Any]:
    """Numbers as the paper's Controller took them (``int(threads)``, ``float(threshold)``)."""
    out = dict(options)
    for name in _INTS:
        if out.get(name) is not None and not isinstance(out[name], bool):
            out[name] = _number(int, name, out[name])
    for name in _FLOATS:
        if out.get(name) is not None and not isinstance(out[name], bool):
            out[name] = _number(float, name, out[name])
    return out


def _number(kind: type, name: str, value: Any) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Controller: {name!r} must be {kind.__name__}, got {value!r}") from None
