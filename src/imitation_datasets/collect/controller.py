"""The Controller: play episodes on a pool of persistent workers, then collate them.

Usage (the IL-Datasets paper's snippet)::

    Controller(baseline_enjoy, baseline_collate, episodes=1000, threads=4).start(
        {"game": "cartpole", "mode": "all"})

Guarantees:

* episode ``i`` is reset with ``episode_seed(seed, i, attempt)``; a rejected attempt (return below
  the threshold) is retried with the next attempt's seed, at most ``max_attempts`` times;
* the dataset depends only on the arguments, never on ``threads`` or scheduling;
* episodes are staged atomically; rerunning an interrupted run resumes it and ends with the same
  bytes as an uninterrupted run; a run with other arguments never reads this run's files;
* one process writes a dataset folder at a time, and the folder is replaced whole (built beside
  it, then renamed in; :mod:`imitation_datasets.collect.folder`); another dataset already there
  is only replaced with ``overwrite=True``; other runs' staged episodes are never deleted;
* resuming and "already complete" need the policy's identity
  (:func:`imitation_datasets.experts.policy.policy_identity`); without one, a run plays afresh.
"""

from __future__ import annotations

import copy
import json
import math
import multiprocessing as mp
import os
import sys
from argparse import Namespace
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.collect.folder import DatasetFolder, OutFolderError
from imitation_datasets.collect.functions import DatasetCollate, RecordingEnjoy
from imitation_datasets.collect.local_backend import play_local
from imitation_datasets.collect.player import PlaySpec
from imitation_datasets.collect.staging import Staging, fingerprint
from imitation_datasets.collect.tally import CollectionError, Tally
from imitation_datasets.collect.worker import DEFAULT_STEP_TIMEOUT, WorkerSpec
from imitation_datasets.core.atomic import atomic_write_bytes
from imitation_datasets.core.episode import Episode, EpisodeFileError
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.rollout import (
    ActionSpaceError,
    check_actions,
    make_env,
    policy_actions,
)
from imitation_datasets.core.seeding import episode_seed, expert_eval_seeds
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import build_metadata, read_metadata
from imitation_datasets.data.schema import METADATA_FILE, NPZ_FILE, json_number, space_to_dict
from imitation_datasets.experts.policy import policy_identity

__all__ = ["ActionSpaceError", "CollectionError", "Controller", "OutFolderError"]

MAX_EPISODES = 10**7
"""Most episodes one dataset may have: the index of every episode is built before any work and
collate holds the whole dataset in memory, so larger requests are refused at once."""
MAX_WORKERS_PER_CPU = 4
"""Local worker processes per CPU beyond which more workers only add memory and switching."""
RANDOM_REFERENCE_EPISODES = 100
RANDOM_REFERENCE_MAX_FAILURES = 100
"""Seeds the random-policy reference may skip because the env raised for them."""
UNKNOWN_IDENTITY = (
    "holds a dataset made with the same arguments, but the policy has no identity, so it may "
    "have been another policy (give it one: CallablePolicy(..., identity='name-v1') or a "
    "fingerprint() method)"
)
MODES = ("all", "play", "collate")
BACKENDS = ("local", "ray")
MAIN_GUARD_HELP = (
    "Controller.start() ran inside a worker process that was importing your script. "
    "This platform starts workers by re-importing the main module, so put the code that "
    "creates the dataset under\n\n    if __name__ == \"__main__\":\n"
    "        Controller(...).start(...)\n"
)


@dataclass
class _Options:
    game: str
    mode: str
    seed: int
    threshold: float | None
    max_attempts: int
    random: bool


def _options(opt: Any, defaults: dict[str, Any]) -> _Options:
    if isinstance(opt, Namespace):
        opt = vars(opt)
    if not isinstance(opt, dict):
        raise TypeError(f"start() takes a dict or argparse.Namespace, got {type(opt).__name__}")
    if "game" not in opt:
        raise ValueError(
            "start() needs a 'game' entry naming the expert, e.g. {'game': 'cartpole'}"
        )
    mode = opt.get("mode", "all")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    merged = {**defaults, **{k: v for k, v in opt.items() if v is not None}}
    return _Options(
        game=str(opt["game"]),
        mode=mode,
        seed=int(merged["seed"]),
        threshold=None if merged.get("threshold") is None else float(merged["threshold"]),
        max_attempts=int(merged["max_attempts"]),
        random=bool(merged.get("random", False)),
    )


MUJOCO_ENVS_PER_WORKER = 4
"""Default batch for MuJoCo envs: each env's simulator state is large, and stepping 16 of them in
turn is markedly slower (``benchmarks/mujoco_collection.py --envs-per-worker 16`` against the
default; figures in the README); 4 still amortises the policy call."""
OTHER_ENVS_PER_WORKER = 16
"""Default batch for cheap simulators (classic control, Box2D), where the per-step policy call
dominates and batching it pays most."""


def default_envs_per_worker(env_id: str) -> int:
    """Environments each worker steps together when the caller does not say."""
    import gymnasium as gym

    try:
        entry = str(gym.spec(env_id).entry_point)
    except gym.error.Error:  # unknown ids fail later, with the registry's message
        return OTHER_ENVS_PER_WORKER
    return MUJOCO_ENVS_PER_WORKER if "mujoco" in entry else OTHER_ENVS_PER_WORKER


class Controller:
    """Create a dataset with ``episodes`` accepted episodes using ``threads`` worker processes.

    Args:
        enjoy: plays one episode: ``baseline_enjoy``/``random_enjoy`` (fast built-in path) or a
            user function ``enjoy(expert, path, context) -> bool`` (``context.seed`` is the reset
            seed to use).
        collate: ``baseline_collate`` (writes the dataset directory) or a user function
            ``collate(path, data) -> bool``.
        episodes: number of episodes to keep (``amount`` is accepted as an alias); at most
            :data:`MAX_EPISODES`.
        threads: worker processes; never more than the episodes left to play, nor (local
            backend) :data:`MAX_WORKERS_PER_CPU` per CPU. Does not change the data.
        path: datasets are written to ``<path>/<game>/``.
        seed: dataset seed (can also be given in ``start``'s options).
        threshold: minimum episode return; defaults to the expert's threshold.
        max_attempts: attempts per episode before the run stops.
        envs_per_worker: environments stepped together in each worker (built-in enjoy);
            ``None``: :func:`default_envs_per_worker` of the env. Does not change the data.
        progress: show a progress bar.
        expert: a policy to use instead of looking ``game`` up in the registry.
        command: how the run was started (recorded in the metadata).
        backend: ``"local"`` (worker processes on this machine) or ``"ray"`` (long-lived Ray
            actors; ``threads`` actors of one CPU each). Both give the same bytes.
        ray_address: Ray cluster to join (``None``: an already initialised Ray, or a new local
            instance).
        step_timeout: seconds a worker may hold episodes without finishing one (a user ``enjoy``:
            without starting its next attempt) before it is killed and the run stops with
            :class:`CollectionError`, keeping what was staged; ``None`` waits forever.
    """

    def __init__(
        self,
        enjoy: Callable[..., Any],
        collate: Callable[..., Any],
        episodes: int | None = None,
        threads: int = 1,
        path: str | os.PathLike[str] = "./dataset/",
        *,
        amount: int | None = None,
        seed: int = 0,
        threshold: float | None = None,
        max_attempts: int = 10,
        envs_per_worker: int | None = None,
        progress: bool = True,
        expert: Any = None,
        command: str | None = None,
        backend: str = "local",
        ray_address: str | None = None,
        step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
        overwrite: bool = False,
    ) -> None:
        episodes = amount if episodes is None else episodes
        if episodes is None or int(episodes) < 1:
            raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
        if int(episodes) > MAX_EPISODES:
            raise ValueError(f"episodes must be at most {MAX_EPISODES:,} per dataset, got "
                             f"{int(episodes):,}; collect several datasets instead")
        if int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads!r}")
        if int(max_attempts) < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        if int(seed) < 0:
            raise ValueError(f"seed must be >= 0, got {seed!r}")
        self.enjoy = enjoy
        self.collate = collate
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        if backend == "ray" and not isinstance(enjoy, RecordingEnjoy):
            raise ValueError("backend='ray' runs the built-in baseline_enjoy/random_enjoy; "
                             "custom enjoy functions run on the local backend")
        self.backend = backend
        self.ray_address = ray_address
        if step_timeout is not None and not float(step_timeout) > 0:
            raise ValueError(f"step_timeout must be > 0 seconds or None, got {step_timeout!r}")
        self.step_timeout = None if step_timeout is None else float(step_timeout)
        self.episodes = int(episodes)
        self.threads = int(threads)
        self.path = Path(path)
        self.defaults = {"seed": int(seed), "threshold": threshold,
                         "max_attempts": int(max_attempts), "random": False}
        self.envs_per_worker = None if envs_per_worker is None else int(envs_per_worker)
        self.progress = progress
        self.expert = expert
        self.command = command
        self.overwrite = bool(overwrite)
        self.last_run: dict[str, Any] = {}

    # ------------------------------------------------------------------ public API
    def start(self, opt: dict[str, Any] | Namespace) -> Path:
        """Run ``opt["mode"]`` (``all``, ``play`` or ``collate``) for expert ``opt["game"]``.

        The dataset folder ``<path>/<game>`` has one writer at a time and is replaced whole (see
        :mod:`imitation_datasets.collect.folder`). A folder that already holds this dataset is
        left as it is; one that holds another dataset is only replaced with ``overwrite=True``.
        Staged episodes of other runs in the folder are kept, and reported.

        Returns:
            The dataset directory.

        Raises:
            CollectionError: an episode never reached the threshold, or workers kept crashing.
            OutFolderError: the folder is busy, holds another dataset, or cannot be written.
            ActionSpaceError: the policy's actions do not fit the action space.
        """
        if getattr(mp.current_process(), "_inheriting", False):
            # a spawned worker is importing the user's script (no __main__ guard)
            raise RuntimeError(MAIN_GUARD_HELP)
        options = _options(opt, self.defaults)
        random_actions = options.random or (
            isinstance(self.enjoy, RecordingEnjoy) and self.enjoy.random_actions
        )
        policy = self.expert if self.expert is not None else _lookup_expert(options.game)
        threshold = options.threshold
        if threshold is None:
            threshold = -math.inf if random_actions else float(policy.threshold)
        run, provenance, resumable = _describe_run(policy, options, threshold, random_actions,
                                                   _function_name(self.enjoy))
        user_enjoy = None if isinstance(self.enjoy, RecordingEnjoy) else self.enjoy
        play = PlaySpec(
            env_id=run["env_id"], env_kwargs=run["env_kwargs"],
            policy=None if random_actions and user_enjoy is None else policy,
            random_actions=random_actions, dataset_seed=options.seed, threshold=threshold,
            max_attempts=options.max_attempts,
            n_envs=(default_envs_per_worker(run["env_id"]) if self.envs_per_worker is None
                    else self.envs_per_worker),
        )
        folder = DatasetFolder(self.path / options.game)
        spec = WorkerSpec(play=play, staging=Staging(folder.path, fingerprint(run), resumable),
                          user_enjoy=user_enjoy, step_timeout=self.step_timeout)
        # a complete folder is only ever replaced whole: reading it needs no lock, so runs that
        # find their dataset complete (parallel benchmark cells) never contend for it
        if options.mode != "play" and self._complete(folder, spec, strict=False):
            return folder.path
        with folder.lock():
            folder.recover()
            self._run_locked(options.mode, folder, spec, run, provenance)
        return folder.path

    def _complete(self, folder: DatasetFolder, spec: WorkerSpec, strict: bool) -> bool:
        """Whether the folder holds this dataset; refusals raise only when ``strict``."""
        whole = spec.user_enjoy is None and isinstance(self.collate, DatasetCollate)
        try:
            done = self._already_there(folder, spec.staging, whole)
        except OutFolderError:
            if strict:
                raise
            return False
        if done and self.progress:
            self._say(f"{folder.path}: already complete for these arguments; nothing to do")
        return done

    def _run_locked(self, mode: str, folder: DatasetFolder, spec: WorkerSpec,
                    run: dict[str, Any], provenance: dict[str, Any]) -> None:
        if mode != "play" and self._complete(folder, spec, strict=True):
            return
        self._report_kept_stagings(folder, spec.staging)
        if mode in ("all", "play"):
            spec.staging.create(run)
            if spec.user_enjoy is None:
                _check_policy(spec.play)
            self._play(spec, folder.path)
        if mode in ("all", "collate"):
            self._collate(spec, folder, run, provenance)

    # ------------------------------------------------------------------ play
    def _done_indices(self, spec: WorkerSpec) -> set[int]:
        if spec.user_enjoy is not None:
            return spec.staging.marked_episodes(self.episodes)
        return spec.staging.staged_episodes(self.episodes)

    def _play(self, spec: WorkerSpec, out_dir: Path) -> None:
        done = self._done_indices(spec)
        todo = deque(i for i in range(self.episodes) if i not in done)
        if not todo:
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        threads = self._worker_count(len(todo))
        tally = Tally(self.episodes, len(done), spec.play.threshold, spec.staging.path,
                      self.progress)
        try:
            if self.backend == "ray":
                from imitation_datasets.collect.ray_backend import play_ray

                play_ray(spec, todo, threads, tally, self.ray_address)
            else:
                play_local(spec, todo, threads, tally)
        except KeyboardInterrupt:
            self._say(f"\ninterrupted: {tally.accepted} episodes are staged in "
                      f"{spec.staging.path}; rerun the same command to resume")
            raise
        finally:
            self.last_run = {**tally.close(), "workers": threads}

    def _worker_count(self, todo: int) -> int:
        """``threads``, but never more than the episodes to play or (locally) 4 per CPU."""
        threads = min(self.threads, todo)
        cpus = _cpu_count()
        if self.backend == "local" and threads > MAX_WORKERS_PER_CPU * cpus:
            threads = MAX_WORKERS_PER_CPU * cpus
            self._say(f"note: {self.threads} workers asked for, but only {cpus} CPU(s) are "
                      f"available here; using {threads} worker processes (the data do not change)")
        return threads

    # ------------------------------------------------------------------ collate
    def _collate(self, spec: WorkerSpec, folder: DatasetFolder, run: dict[str, Any],
                 provenance: dict[str, Any]) -> None:
        out_dir = folder.path
        # built-in enjoy: the staged episodes are read once, for the check and for collate
        staged = None if spec.user_enjoy is not None else spec.staging.episode_bytes(self.episodes)
        done = spec.staging.marked_episodes(self.episodes) if staged is None else set(staged)
        missing = [i for i in range(self.episodes) if i not in done]
        if missing:
            raise CollectionError(
                f"cannot collate: {len(missing)} of {self.episodes} episodes are not staged "
                f"(first missing: {missing[0]}); run mode 'play' or 'all' with the same arguments"
                + ("" if spec.staging.resumable else
                   " (the policy has no identity, so no earlier run's episodes are used: give it "
                   "one, or use mode 'all')")
            )
        if staged is None or not isinstance(self.collate, DatasetCollate):
            self._user_collate(spec, out_dir, staged)
            return
        try:
            episodes = [Episode.from_bytes(staged[i], f"{spec.staging.path} (episode {i})")
                        for i in range(self.episodes)]
        except EpisodeFileError as exc:
            raise CollectionError(
                f"{exc}; delete the staging folder and rerun to replay the episodes"
            ) from None

        def metadata(arrays: DatasetArrays) -> dict[str, Any]:
            return build_metadata(
                arrays,
                env=_env_description(spec.play.env_id, spec.play.env_kwargs),
                expert=provenance,
                collection={
                    "dataset_seed": spec.play.dataset_seed,
                    "episodes": self.episodes,
                    "threshold": json_number(spec.play.threshold),
                    "max_attempts": spec.play.max_attempts,
                    "enjoy": run["enjoy"],
                    "random_actions": spec.play.random_actions,
                    "seed_rule": "imitation_datasets.core.seeding.episode_seed(dataset_seed, "
                                 "episode, attempt) = SeedSequence(dataset_seed, "
                                 "spawn_key=(episode, attempt)).generate_state(1, uint32)[0]",
                    "fingerprint": spec.staging.fingerprint,
                },
                acceptance=_acceptance(episodes),
                reference=_reference(provenance, spec, arrays),
                creation={"command": self.command or _default_command(self, run)},
            )

        collate = self.collate
        try:
            folder.replace(lambda build: collate.write(build, episodes, metadata),
                           drop_staging=spec.staging.path.name)
        except OSError as exc:
            raise OutFolderError(
                f"cannot write the dataset {out_dir} ({exc.filename or out_dir}: "
                f"{exc.strerror or exc}); nothing was changed and the staged episodes are kept "
                f"in {spec.staging.path}: fix the cause and rerun the same command"
            ) from None

    def _user_collate(self, spec: WorkerSpec, out_dir: Path,
                      staged: dict[int, bytes] | None) -> None:
        if staged is not None:  # built-in enjoy; a user collate reads one file per episode
            for index, payload in staged.items():
                if not spec.staging.episode_path(index).exists():
                    atomic_write_bytes(spec.staging.episode_path(index), payload, durable=False)
            files = [spec.staging.episode_path(i).name for i in range(self.episodes)]
            path = str(spec.staging.path) + os.sep
        else:
            files = spec.staging.user_files(range(self.episodes))
            path = str(out_dir) + os.sep
        result = self.collate(path=path, data=files)
        if result is False:
            raise CollectionError(f"collate function {self.collate!r} returned False")

    def _already_there(self, folder: DatasetFolder, staging: Staging, whole: bool) -> bool:
        """Whether ``folder`` holds this very dataset already.

        With the built-in collate (``whole``), a folder holding files il-datasets did not write,
        or another dataset, is refused unless ``overwrite`` (:class:`OutFolderError`). "This
        dataset" needs a policy whose identity is known: the same arguments with a policy of
        unknown identity may name another policy.
        """
        if whole:
            folder.check_contents()
        if not (folder.path / METADATA_FILE).is_file():
            return False
        try:
            metadata = read_metadata(folder.path)
        except DatasetFormatError as exc:
            return self._refuse(folder, whole, f"holds a dataset that cannot be read ({exc})")
        collection = metadata.get("collection")
        collection = collection if isinstance(collection, dict) else {}
        if collection.get("fingerprint") != staging.fingerprint:
            return self._refuse(folder, whole, f"already holds another dataset "
                                               f"({_summary(metadata)})")
        if not staging.resumable:
            return self._refuse(folder, whole, UNKNOWN_IDENTITY)
        npz_missing = (isinstance(self.collate, DatasetCollate) and self.collate.npz
                       and not (folder.path / NPZ_FILE).is_file())
        return (collection.get("episodes") == self.episodes and not npz_missing
                and not staging.path.exists())

    def _refuse(self, folder: DatasetFolder, whole: bool, reason: str) -> bool:
        """Raise unless ``overwrite`` (or a user collate, which decides itself); else False."""
        if self.overwrite or not whole:
            return False
        raise OutFolderError(
            f"{folder.path}: {reason}; pass --overwrite (Controller(..., overwrite=True)) to "
            f"replace it, or choose another output folder"
        )

    def _report_kept_stagings(self, folder: DatasetFolder, staging: Staging) -> None:
        """Tell the user about staged episodes of other runs (they are never deleted)."""
        for other in folder.staging_folders():
            if other != staging.path:
                self._say(_kept_message(other))

    def _say(self, message: str) -> None:
        print(message, file=sys.stderr)


def _function_name(function: Any) -> str:
    if isinstance(function, RecordingEnjoy):
        return repr(function)
    module = getattr(function, "__module__", "?")
    return f"{module}.{getattr(function, '__qualname__', type(function).__name__)}"


def _lookup_expert(game: str) -> Any:
    from imitation_datasets.experts.registry import Experts

    return Experts.get_expert(game)


def _env_description(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    env = make_env(env_id, env_kwargs)
    try:
        spec_json = json.loads(env.spec.to_json()) if env.spec is not None else None
    except Exception:  # noqa: BLE001 - some specs hold callables; keep the id then
        spec_json = None
    description = {
        "id": env_id,
        "kwargs": env_kwargs,
        "spec": spec_json,
        "max_episode_steps": getattr(env.spec, "max_episode_steps", None),
        "observation_space": space_to_dict(env.observation_space),
        "action_space": space_to_dict(env.action_space),
    }
    env.close()
    return description


def _acceptance(episodes: list[Episode]) -> dict[str, Any]:
    rejected = [r for e in episodes for r in e.rejected_returns if not math.isnan(r)]
    errors = sum(1 for e in episodes for r in e.rejected_returns if math.isnan(r))
    attempts = sum(e.attempt + 1 for e in episodes)
    return {
        "attempts": attempts,
        "accepted": len(episodes),
        "rejected": len(rejected),
        "errors": errors,
        "acceptance_rate": len(episodes) / attempts,
        "rejected_returns": [json_number(r) for r in rejected],
    }


def _reference(provenance: dict[str, Any], spec: WorkerSpec,
               arrays: DatasetArrays) -> dict[str, Any]:
    returns = arrays.returns
    reference: dict[str, Any] = {"dataset_return_mean": json_number(returns.mean())}
    if "random_return_mean" in provenance:
        reference["random_return_mean"] = provenance["random_return_mean"]
        reference["random_return_source"] = (
            f"expert card: random policy on seeds {provenance['evaluation_seed_start']}.."
            f"{provenance['evaluation_seed_start'] + provenance['evaluation_episodes'] - 1}"
        )
        reference["expert_return_mean"] = provenance["return_mean"]
    else:
        reference.update(_random_reference(spec.play.env_id, spec.play.env_kwargs))
    return reference


def _random_reference(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Mean return of the random policy on the evaluation seeds, skipping seeds that raise.

    Deterministic: the same seeds fail every time, so the same seeds are used. When too many
    fail, the reference is recorded as unavailable, with the reason, and the dataset is kept.
    """
    from imitation_datasets.core.evaluation import evaluate_available

    seeds = expert_eval_seeds(RANDOM_REFERENCE_EPISODES + RANDOM_REFERENCE_MAX_FAILURES)
    try:
        returns, used, failed = evaluate_available(
            None, env_id, seeds, RANDOM_REFERENCE_EPISODES, env_kwargs,
            max_failures=RANDOM_REFERENCE_MAX_FAILURES)
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1]
        return {"random_return_mean": None,
                "random_return_source": f"unavailable: random-policy episodes raised on too many "
                                        f"of the seeds {seeds[0]}..{seeds[-1]} ({last})"}
    source = f"random policy on seeds {used[0]}..{used[-1]}"
    if failed:
        shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
        source += f", skipping {len(failed)} seeds whose episode raised ({shown})"
    return {"random_return_mean": json_number(np.mean(returns)), "random_return_source": source}


def _describe_run(policy: Any, options: _Options, threshold: float, random_actions: bool,
                  enjoy: str) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Describe a run: ``(run, provenance, resumable)``.

    ``run`` is what the fingerprint hashes, ``provenance`` what the metadata records about the
    expert, ``resumable`` whether the policy's identity is known.
    """
    provenance = ({"kind": "random"} if random_actions
                  else (policy.provenance() if hasattr(policy, "provenance")
                        else {"kind": "policy", "id": _qualname(type(policy))}))
    run = {
        "env_id": getattr(policy, "env_id", None) or policy.name,
        "env_kwargs": dict(getattr(policy, "env_kwargs", {}) or {}),
        "expert": {k: provenance.get(k) for k in ("kind", "id", "weights_sha256")},
        "dataset_seed": options.seed,
        "threshold": json_number(threshold),
        "max_attempts": options.max_attempts,
        "enjoy": enjoy,
        "random_actions": random_actions,
    }
    identity = None if random_actions else policy_identity(policy)
    if identity is not None and identity != f"sha256:{provenance.get('weights_sha256')}":
        run["policy_identity"] = identity  # weights hashes are in run["expert"] already
    return run, provenance, random_actions or identity is not None


def _check_policy(play: PlaySpec) -> None:
    """Try the policy on a start state: actions that do not fit the space stop the run at once.

    Any other error is left to the rollout, which logs and retries it like any failed attempt.
    The check runs on a shallow copy, so the policy the workers get is not changed by it (an SB3
    policy keeps its recurrent state on the object).
    """
    if play.policy is None or play.random_actions:
        return
    try:
        policy = copy.copy(play.policy)
        env = make_env(play.env_id, play.env_kwargs)
        try:
            obs, _ = env.reset(seed=episode_seed(play.dataset_seed, 0))
            if hasattr(policy, "load"):
                policy.load()
            actions = policy_actions(policy, np.stack([obs, obs]))
            check_actions(actions, env.action_space, 2, policy)
        finally:
            env.close()
    except ActionSpaceError:
        raise
    except Exception:  # noqa: BLE001 - the rollout reports these, with retries and a log
        return


def _kept_message(staging: Path) -> str:
    try:
        run = json.loads((staging / "run.json").read_text(encoding="utf-8"))
        what = (f"expert {run['expert'].get('id') or run['expert'].get('kind')}, "
                f"seed {run['dataset_seed']}")
        resumable = bool(run.get("resumable", True))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        what, resumable = "run.json unreadable", True
    if resumable:
        return (f"note: keeping {staging}: episodes staged by another run ({what}); rerun that "
                f"run's command to resume it, or delete that folder to discard them")
    return (f"note: keeping {staging}: episodes staged by an earlier run ({what}) whose policy "
            f"had no identity, so no run resumes them; delete that folder to discard them")


def _summary(metadata: dict[str, Any]) -> str:
    expert = metadata.get("expert") if isinstance(metadata.get("expert"), dict) else {}
    collection = metadata.get("collection") if isinstance(metadata.get("collection"), dict) else {}
    return (f"expert {expert.get('id') or expert.get('kind')}, seed "
            f"{collection.get('dataset_seed')}, {collection.get('episodes')} episodes")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _default_command(controller: Controller, run: dict[str, Any]) -> str:
    return (f"Controller({run['enjoy']}, {controller.collate!r}, episodes={controller.episodes}, "
            f"seed={run['dataset_seed']}, threshold={run['threshold']}, "
            f"max_attempts={run['max_attempts']}).start(...)")
