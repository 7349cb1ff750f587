"""Play many seeded episodes at once: several environments per process, one batched policy call.

The runner keeps ``n_envs`` environments busy. Whenever one finishes an episode it asks for the
next job (an opaque key and a reset seed), so a process never idles while work remains. Policy
inference is batched across the environments, which is where the speed comes from.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import OrderEnforcing, TimeLimit

from imitation_datasets.core.acting import batch_actions
from imitation_datasets.core.episode import Episode
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.portable_envs import make_portable
from imitation_datasets.core.spaces import storable

Job = tuple[Any, int]
"""``(key, seed)``: what to play next; the key (any hashable value) comes back with the result."""


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """Create an environment the way every part of the library does.

    A non-Box observation space (Discrete, MultiDiscrete, MultiBinary, Dict, Tuple) is wrapped
    to give the rows it is stored as (``core/spaces.py``); an unsupported observation or action
    space raises :class:`~imitation_datasets.core.spaces.UnsupportedSpaceError` (one line).
    An environment whose Gymnasium code gives CPU-dependent bits (``Reacher-v5``'s and
    ``Pusher-v5``'s BLAS norms) gets its portable class (``core/portable_envs.py``).
    """
    env = make_portable(gym.make(env_id, disable_env_checker=True, **(env_kwargs or {})))
    return storable(env, env_id)


FULL_RESET_FAMILIES = ("gymnasium.envs.classic_control.", "gymnasium.envs.mujoco.")
"""Entry-point prefixes of environments whose ``reset(seed=...)`` rebuilds their whole state.

Other environments may carry state from one episode into the next: Box2D's BipedalWalker keeps
its ``b2World`` across resets, so an episode's trajectory depended on which episodes the same
instance had played before, i.e. on the number of environments per worker (seen: 6 of 10
golden episodes differed between 1 and 7 envs per worker). Those get a freshly made environment
for every episode (one ``gym.make`` each); the golden-fingerprint tests compare 1 and 7 envs
per worker for every shipped expert, so a family added here without reason is caught."""


def resets_completely(env: gym.Env) -> bool:
    """Whether ``env`` comes from a family listed in :data:`FULL_RESET_FAMILIES`."""
    spec = env.spec
    entry = spec.entry_point if spec is not None else None
    return isinstance(entry, str) and entry.startswith(FULL_RESET_FAMILIES)


class ActionSpaceError(ImitationDatasetsError, ValueError):
    """A policy returned actions that do not fit the environment's action space."""


def _policy_name(policy: Any) -> str:
    label = getattr(policy, "label", None)
    return repr(label) if label else type(policy).__name__


def action_kinds(space: gym.Space) -> str:
    """NumPy dtype kinds a batch of actions for ``space`` may have (integers for integer spaces)."""
    integer = isinstance(space, gym.spaces.Discrete) or (
        space.dtype is not None and space.dtype.kind in "iu")
    return "iu" if integer else "iuf"


def check_actions(actions: np.ndarray, space: gym.Space, rows: int, policy: Any) -> None:
    """Refuse a batch of actions whose shape or kind does not fit ``space`` (one line).

    ``rows`` observations must give ``rows`` actions of ``space.shape``; a ``Discrete`` or integer
    space needs integer actions, a float ``Box`` numbers. Values are not bounds-checked here (the
    environment does that on every step).
    """
    expected = (rows, *(space.shape or ()))
    wanted = action_kinds(space)
    if actions.shape != expected or actions.dtype.kind not in wanted:
        raise ActionSpaceError(
            f"policy {_policy_name(policy)} returned actions of shape {actions.shape} and dtype "
            f"{actions.dtype} for {rows} observations; the action space {space} expects shape "
            f"{expected} and {'integer' if wanted == 'iu' else 'numeric'} values"
        )


@dataclass
class Outcome:
    """The result of one job: an episode, or the traceback of the error that ended it."""

    key: Any
    seed: int
    episode: Episode | None
    error: str | None = None

    @property
    def episode_return(self) -> float:
        """Return of the episode (``-inf`` when it failed)."""
        return float("-inf") if self.episode is None else self.episode.episode_return


def fast_step(env: gym.Env) -> tuple[Callable[[Any], tuple], int | None]:
    """``(step, max_episode_steps)`` that skip Gymnasium's bookkeeping wrappers.

    ``gym.make`` wraps every environment in ``OrderEnforcing`` and ``TimeLimit``; calling them
    on every step costs 2-6 % of a fast simulator's rate. When those are the only wrappers,
    this returns the unwrapped ``step`` and the time limit, which the caller applies itself
    (``truncated`` once the episode has that many steps, exactly as ``TimeLimit`` does; resets
    still go through the wrappers). Any other wrapper keeps the full ``env.step``.
    """
    limit: int | None = None
    inner: Any = env
    while isinstance(inner, gym.Wrapper):
        if type(inner) is TimeLimit:
            steps = inner._max_episode_steps
            limit = steps if limit is None else min(limit, steps)
        elif type(inner) is not OrderEnforcing:
            return env.step, None
        inner = inner.env
    return inner.step, limit


class _Slot:
    """One environment and the episode it is recording."""

    __slots__ = ("env", "env_fn", "reuse", "played", "step", "limit", "job", "obs",
                 "observations", "actions", "rewards")

    def __init__(self, env_fn: Callable[[], gym.Env]) -> None:
        self.env_fn = env_fn
        self.env = env_fn()
        self.reuse = resets_completely(self.env)
        self.played = False
        self.step, self.limit = fast_step(self.env)
        self.job: Job | None = None

    def start(self, job: Job, random_actions: bool) -> None:
        if self.played and not self.reuse:  # an episode never depends on the ones before it
            self.env.close()
            self.env = self.env_fn()
            self.step, self.limit = fast_step(self.env)
        self.played = True
        self.job = job
        self.obs, _ = self.env.reset(seed=int(job[1]))
        if random_actions:
            self.env.action_space.seed(int(job[1]))
        self.observations: list[np.ndarray] = []
        self.actions: list[Any] = []
        self.rewards: list[float] = []

    def playing(self) -> Job:
        """The job being played (only called while there is one)."""
        assert self.job is not None
        return self.job


class EpisodeRunner:
    """Plays jobs on ``n_envs`` environments with one batched policy call per step.

    Args:
        env_fn: creates one environment.
        policy: anything with ``predict(obs_batch, deterministic=True)``; ignored when
            ``random_actions`` is true.
        n_envs: environments stepped together in this process.
        random_actions: sample actions from the action space, seeded with the episode seed.
        record: keep observations/actions/rewards (``False`` only measures returns).
        deterministic: what the policy is asked for (``predict(obs, deterministic=...)``):
            ``True`` for experts and evaluation, ``False`` for an agent that explores.
    """

    def __init__(
        self,
        env_fn: Callable[[], gym.Env],
        policy: Any = None,
        n_envs: int = 16,
        random_actions: bool = False,
        record: bool = True,
        *,
        deterministic: bool = True,
    ) -> None:
        if policy is None and not random_actions:
            raise ValueError("a policy is required unless random_actions=True")
        if n_envs < 1:
            raise ValueError(f"n_envs must be >= 1, got {n_envs}")
        self.slots = [_Slot(env_fn) for _ in range(n_envs)]
        self.policy = policy
        self.random_actions = random_actions
        self.record = record
        self.deterministic = deterministic
        space = self.slots[0].env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise TypeError(f"only Box observation spaces are supported, got {space}")
        action_space = self.slots[0].env.action_space
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self._action_shape = tuple(action_space.shape or ())
        self._kinds = action_kinds(action_space)
        # the policy reads observations from one preallocated array (no per-step np.stack)
        self._obs = np.zeros((n_envs, *space.shape), dtype=space.dtype)

    def close(self) -> None:
        """Close every environment."""
        for slot in self.slots:
            slot.env.close()

    def _finish(self, slot: _Slot, final_obs: np.ndarray, terminated: bool, truncated: bool
                ) -> Outcome:
        key, seed = slot.playing()
        steps = len(slot.rewards)
        episode = Episode(
            obs=np.stack(slot.observations) if self.record else np.zeros((steps, 0)),
            actions=np.asarray(slot.actions) if self.record else np.zeros(steps),
            rewards=np.asarray(slot.rewards, dtype=np.float64),
            final_obs=np.asarray(final_obs),
            terminated=bool(terminated),
            truncated=bool(truncated),
            seed=int(seed),
        )
        slot.job = None
        return Outcome(key, int(seed), episode)

    def _actions(self, active: list[int]) -> list[Any]:
        if self.random_actions:
            return [self.slots[i].env.action_space.sample() for i in active]
        obs = self._obs if len(active) == len(self.slots) else self._obs[active]
        batch = batch_actions(self.policy, obs, self.deterministic)
        if batch.shape != (len(active), *self._action_shape) or batch.dtype.kind not in self._kinds:
            check_actions(batch, self.slots[0].env.action_space, len(active), self.policy)
        # Python ints for discrete actions: what Gymnasium's own envs expect (Box2D steps
        # faster with them than with NumPy scalars); they are recorded as the same int64 values.
        return batch.tolist() if self.discrete else list(batch)

    def run(self, next_job: Callable[[], Job | None]) -> Iterator[Outcome]:
        """Play jobs until ``next_job`` returns ``None`` and every environment is idle.

        Outcomes are yielded as episodes end; ``next_job`` is called after the consumer has
        handled the previous outcome, so a consumer can schedule a retry from it.
        """
        exhausted = False
        slots, buffer, record = self.slots, self._obs, self.record

        def refill(i: int) -> Iterator[Outcome]:
            nonlocal exhausted
            slot = slots[i]
            while slot.job is None and not exhausted:
                job = next_job()
                if job is None:
                    exhausted = True
                    return
                try:
                    slot.start(job, self.random_actions)
                    buffer[i] = slot.obs
                except Exception:  # noqa: BLE001 - a failing reset is a failed attempt
                    slot.job = None
                    yield Outcome(job[0], int(job[1]), None, traceback.format_exc())

        for i in range(len(slots)):
            yield from refill(i)
        while True:
            active = [i for i, slot in enumerate(slots) if slot.job is not None]
            if not active:
                return
            try:
                actions = self._actions(active)
            except ActionSpaceError:
                raise  # a wrong policy, not a bad episode: retrying cannot help
            except Exception:  # noqa: BLE001 - a policy error fails these attempts
                error = traceback.format_exc()
                for i in active:
                    key, seed = slots[i].playing()
                    slots[i].job = None
                    yield Outcome(key, int(seed), None, error)
                for i in active:
                    yield from refill(i)
                continue
            for i, action in zip(active, actions):
                slot = slots[i]
                try:
                    obs, reward, terminated, truncated, _ = slot.step(action)
                except Exception:  # noqa: BLE001 - an env error fails this attempt
                    key, seed = slot.playing()
                    slot.job = None
                    yield Outcome(key, int(seed), None, traceback.format_exc())
                    yield from refill(i)
                    continue
                if record:
                    slot.observations.append(slot.obs)
                    slot.actions.append(action)
                slot.rewards.append(reward)
                if slot.limit is not None and len(slot.rewards) >= slot.limit:
                    truncated = True
                slot.obs = obs
                buffer[i] = obs
                if terminated or truncated:
                    yield self._finish(slot, obs, terminated, truncated)
                    yield from refill(i)


def play(
    env_fn: Callable[[], gym.Env],
    seeds: list[int],
    policy: Any = None,
    n_envs: int = 16,
    random_actions: bool = False,
    record: bool = True,
    *,
    deterministic: bool = True,
) -> list[Episode]:
    """Play one episode per seed and return the episodes in seed order.

    Arguments as in :class:`EpisodeRunner`.

    Raises:
        RuntimeError: an episode failed (its traceback is in the message).
    """
    episodes, _ = play_available(env_fn, seeds, len(seeds), policy, n_envs, random_actions,
                                 record, max_failures=0, deterministic=deterministic)
    return episodes


def play_available(
    env_fn: Callable[[], gym.Env],
    seeds: Sequence[int],
    count: int,
    policy: Any = None,
    n_envs: int = 16,
    random_actions: bool = False,
    record: bool = True,
    max_failures: int = 0,
    *,
    deterministic: bool = True,
) -> tuple[list[Episode], list[int]]:
    """Play the first ``count`` seeds of ``seeds`` whose episodes finish without an error.

    A seed whose episode raises is skipped for the next seed of the list, at most
    ``max_failures`` times. Which seeds are used depends only on which seeds fail, never on
    ``n_envs`` or timing: seeds are handed out in order and never more than ``count`` are
    running or finished.

    Returns:
        The episodes in seed order, and the seeds that failed.

    Raises:
        RuntimeError: more than ``max_failures`` episodes failed, or ``seeds`` ran out (the last
            traceback is in the message).
    """
    queue = list(enumerate(seeds))[::-1]
    failed: list[int] = []  # positions in ``seeds``
    episodes: dict[int, Episode] = {}
    state = {"live": 0}

    def next_job() -> Job | None:
        if state["live"] >= count or not queue:
            return None
        state["live"] += 1
        return queue.pop()

    runner = EpisodeRunner(env_fn, policy, min(n_envs, max(count, 1)), random_actions, record,
                           deterministic=deterministic)
    try:
        for outcome in runner.run(next_job):
            if outcome.episode is not None:
                episodes[outcome.key] = outcome.episode
                continue
            failed.append(outcome.key)
            state["live"] -= 1
            if len(failed) > max_failures or not queue:
                raise RuntimeError(f"episode with seed {outcome.seed} failed:\n{outcome.error}")
    finally:
        runner.close()
    return [episodes[k] for k in sorted(episodes)], [int(seeds[k]) for k in sorted(failed)]
