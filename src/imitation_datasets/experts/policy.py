"""The Policy interface and adapters: SB3 checkpoints (opt-in, they hold pickle) and callables."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from imitation_datasets.core.acting import one_or_batch
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.rollout import make_env

TRUST_PICKLE_ENV = "IMITATION_DATASETS_TRUST_PICKLE"


@runtime_checkable
class PolicyLike(Protocol):
    """Anything that acts: ``predict(obs, deterministic=True)`` on one observation or a batch.

    It may return the actions, or ``(actions, state)`` as stable-baselines3 does.

    A policy may also define ``fingerprint() -> str``: a string that changes whenever its actions
    may change (a hash of its weights, or a version the user maintains). The Controller resumes an
    interrupted run, and skips a dataset as already complete, only for policies whose identity it
    knows (see :func:`policy_identity`).
    """

    def predict(self, obs: Any, deterministic: bool = True) -> Any:
        """Return actions for ``obs``."""


def policy_identity(policy: Any) -> str | None:
    """What identifies a policy's behaviour, or ``None`` when it cannot be known.

    In order: ``policy.fingerprint()`` (:class:`CallablePolicy` with ``identity=``, user classes);
    the sha256 of its weights (``provenance()["weights_sha256"]``: curated experts, SB3
    checkpoints). A plain function or object has no such identity: its label or ``repr`` may name
    two different policies, or (with a memory address) the same policy differently in each
    process, so the Controller neither resumes its staged episodes nor trusts an existing dataset
    made with it.
    """
    method = getattr(policy, "fingerprint", None)
    if callable(method):
        value = method()
        if value is not None:
            return str(value)
    provenance = getattr(policy, "provenance", None)
    if callable(provenance):
        sha = provenance().get("weights_sha256")
        if sha:
            return f"sha256:{sha}"
    return None


def policy_environment(policy: Any) -> Any:
    """IL-Datasets 1.0.0's ``Policy.get_environment()``: a new env of the policy's env id.

    Made with the policy's ``env_kwargs`` and ``render_mode="rgb_array"`` (as 1.0.0). A new
    environment per call (1.0.0 cached one, which its ``enjoy`` closed after each episode).
    """
    kwargs = {**dict(getattr(policy, "env_kwargs", None) or {}), "render_mode": "rgb_array"}
    return make_env(policy.env_id, kwargs)


class PickleOptInError(ImitationDatasetsError, PermissionError):
    """Loading this checkpoint would unpickle it, and the user has not opted in."""


class CallablePolicy:
    """Adapt a function ``obs_batch -> actions`` to the Policy interface.

    A function's behaviour cannot be read from its name or code (it may call other functions or
    read changing globals), so a ``CallablePolicy`` has an identity only when the user gives one:
    ``identity="my-heuristic-v2"``, to be changed whenever the function's actions change. With an
    identity, an interrupted collection resumes and a rerun finds its dataset complete. Without
    one, every run collects afresh and an existing dataset in the output folder is only replaced
    with ``overwrite=True``.

    Args:
        fn: maps a batch of observations to a batch of actions.
        env_id: environment the policy acts in (used by the Controller).
        threshold: minimum return for an episode to be kept.
        label: label recorded in the dataset metadata (default: the function's name).
        env_kwargs: extra ``gym.make`` arguments.
        identity: a string that names this function's behaviour (recorded in the metadata).
        name: deprecated spelling of ``label`` (the attribute :attr:`name` is the env id, as
            on every expert).
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], Any],
        env_id: str,
        threshold: float = float("-inf"),
        label: str | None = None,
        env_kwargs: dict[str, Any] | None = None,
        identity: str | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if identity is not None and (not isinstance(identity, str) or not identity.strip()):
            raise ValueError(f"identity must be a non-empty string, got {identity!r}")
        self.fn = fn
        self.env_id = env_id
        self.threshold = float(threshold)
        self.label = label or name or getattr(fn, "__qualname__", "callable")
        self.env_kwargs = dict(env_kwargs or {})
        self.identity = identity

    @property
    def name(self) -> str:
        """Deprecated alias of :attr:`env_id` (the original IL-Datasets ``Policy.name``)."""
        return self.env_id

    def fingerprint(self) -> str | None:
        """The identity the user gave (``None``: unknown)."""
        return None if self.identity is None else f"callable:{self.identity}"

    def load(self) -> CallablePolicy:
        """Nothing to load."""
        return self

    def get_environment(self) -> Any:
        """A new environment of this policy (:func:`policy_environment`)."""
        return policy_environment(self)

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """Apply the function to one observation or a batch; return ``(actions, None)``.

        The tuple is stable-baselines3's ``predict`` convention (a drop-in for SB3 users).
        """
        return one_or_batch(self.fn, obs), None

    def provenance(self) -> dict[str, Any]:
        """What a dataset's metadata records about this policy."""
        info = {"kind": "callable", "id": self.label}
        if self.identity is not None:
            info["identity"] = self.identity
        return info


@dataclass
class Policy:
    """A stable-baselines3 checkpoint as an expert (the original IL-Datasets ``Policy``).

    ``repo_id`` is a HuggingFace hub repository (resolved through the local cache, so it works
    offline once downloaded) or a local folder; ``filename`` the ``.zip`` inside it, or a full
    path to a local ``.zip``. SB3 zips contain pickled objects, which can execute code when
    loaded: :meth:`load` refuses unless ``trust_pickle=True`` or the environment variable
    ``IMITATION_DATASETS_TRUST_PICKLE=1`` is set.

    Args:
        name: Gymnasium id of the environment.
        repo_id: hub repository id or local folder.
        filename: checkpoint file name (or path).
        threshold: minimum episode return to keep an episode.
        algo: an SB3 algorithm class, or its name (``"ppo"``, ``"dqn"``, ``"sac"``, ...).
        trust_pickle: explicit opt-in to unpickling the checkpoint.
    """

    name: str
    repo_id: str
    filename: str
    threshold: float
    algo: Any
    trust_pickle: bool = False
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policy: Any = field(init=False, default=None, repr=False)
    internal_state: Any = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.threshold = float(self.threshold)

    @property
    def env_id(self) -> str:
        """Gymnasium id of the environment."""
        return self.name

    def get_environment(self) -> Any:
        """A new environment of this policy (:func:`policy_environment`)."""
        return policy_environment(self)

    def checkpoint_path(self) -> Path:
        """Resolve the checkpoint to a local file (hub cache or local path)."""
        for candidate in (Path(self.filename), Path(self.repo_id) / self.filename):
            if candidate.is_file():
                return candidate
        try:
            from huggingface_hub import hf_hub_download
        except ImportError:
            raise ImportError(
                "loading from the hub needs huggingface_hub: pip install 'imitation-datasets[sb3]'"
            ) from None
        try:
            return Path(hf_hub_download(repo_id=self.repo_id, filename=self.filename))
        except Exception as exc:  # noqa: BLE001 - many hub errors; one clear message
            raise FileNotFoundError(
                f"cannot find {self.filename!r} locally or in the hub cache for {self.repo_id!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    def _algo_class(self) -> Any:
        if not isinstance(self.algo, str):
            return self.algo
        import sb3_contrib
        import stable_baselines3

        for module in (stable_baselines3, sb3_contrib):
            cls = getattr(module, self.algo.upper(), None)
            if cls is not None:
                return cls
        raise ValueError(f"unknown SB3 algorithm {self.algo!r}")

    def load(self) -> Any:
        """Load the SB3 model (only with the pickle opt-in)."""
        if self.policy is not None:
            return self.policy
        path = self.checkpoint_path()
        if not (self.trust_pickle or os.environ.get(TRUST_PICKLE_ENV) == "1"):
            raise PickleOptInError(
                f"{path} is a stable-baselines3 checkpoint, which contains pickle and can run code "
                f"when loaded. If you trust it, pass trust_pickle=True to Policy(...) or set "
                f"{TRUST_PICKLE_ENV}=1. The curated experts need no opt-in."
            )
        custom_objects = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0,
                          "clip_range": lambda _: 0.0}
        self.policy = self._algo_class().load(str(path), custom_objects=custom_objects,
                                              device="cpu")
        return self.policy

    def predict(self, obs: Any, deterministic: bool = True) -> tuple[Any, Any]:
        """SB3 ``predict`` on one observation or a batch (loads on first use).

        Returns ``(actions, state)`` as SB3 does; the state (recurrent policies) is kept for the
        next call.
        """
        model = self.load()
        action, self.internal_state = model.predict(
            obs, state=self.internal_state, deterministic=deterministic
        )
        return action, self.internal_state

    def provenance(self) -> dict[str, Any]:
        """What a dataset's metadata records about this policy."""
        from imitation_datasets.experts.network import sha256_file

        info: dict[str, Any] = {"kind": "sb3", "id": f"{self.repo_id}/{self.filename}",
                                "algo": getattr(self.algo, "__name__", str(self.algo))}
        with contextlib.suppress(OSError, ImportError):
            info["weights_sha256"] = sha256_file(self.checkpoint_path())
        return info
