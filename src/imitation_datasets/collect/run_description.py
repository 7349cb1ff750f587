"""What a collection run is: its fingerprinted description, the expert's provenance, the env batch.

The description (:func:`describe_run`) holds everything that decides the recorded bytes; its
fingerprint names the staging folder (:mod:`imitation_datasets.collect.staging`) and is recorded in
the metadata, so a rerun with the same description resumes and finds its dataset complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from imitation_datasets.collect.functions import RecordingEnjoy, policy_env
from imitation_datasets.data.schema import json_number
from imitation_datasets.experts.policy import policy_identity

MUJOCO_ENVS_PER_WORKER = 4
"""Default batch for MuJoCo envs: each env's simulator state is large, and stepping 16 of them in
turn is markedly slower (``benchmarks/mujoco_collection.py --envs-per-worker 16`` against the
default; figures in the README); 4 still amortises the policy call."""
OTHER_ENVS_PER_WORKER = 16
"""Default batch for cheap simulators (classic control, Box2D), where the per-step policy call
dominates and batching it pays most."""


def default_envs_per_worker(env_id: str) -> int:
    """Environments each worker steps together when the caller does not say."""
    try:
        entry = str(gym.spec(env_id).entry_point)
    except gym.error.Error:  # unknown ids fail later, with the registry's message
        return OTHER_ENVS_PER_WORKER
    return MUJOCO_ENVS_PER_WORKER if "mujoco" in entry else OTHER_ENVS_PER_WORKER


@dataclass(frozen=True)
class RunDescription:
    """A run, described three ways.

    Attributes:
        run: what the fingerprint hashes (env, expert, seed, threshold, attempts, enjoy).
        provenance: what the metadata records about the expert.
        resumable: whether the policy's identity is known (a later run may resume this one).
    """

    run: dict[str, Any]
    provenance: dict[str, Any]
    resumable: bool


def describe_run(policy: Any, seed: int, threshold: float, max_attempts: int,
                 random_actions: bool, enjoy: Any, pixels: dict[str, Any] | None = None,
                 noise: dict[str, Any] | None = None) -> RunDescription:
    """Describe the run of ``enjoy`` with ``policy`` under these acceptance rules.

    ``pixels`` (what a pixel run records, ``PixelSpec.to_json()``) and ``noise`` (the action
    noise, ``NoiseSpec.to_json()``) are part of the description only when given, so the
    fingerprints of other runs are unchanged.
    """
    provenance = ({"kind": "random"} if random_actions
                  else (policy.provenance() if hasattr(policy, "provenance")
                        else {"kind": "policy", "id": _qualname(type(policy))}))
    env_id, env_kwargs = policy_env(policy)
    run = {
        "env_id": env_id,
        "env_kwargs": env_kwargs,
        "expert": {k: provenance.get(k) for k in ("kind", "id", "weights_sha256")},
        "dataset_seed": seed,
        "threshold": json_number(threshold),
        "max_attempts": max_attempts,
        "enjoy": function_name(enjoy),
        "random_actions": random_actions,
    }
    if pixels is not None:
        run["pixels"] = pixels
    if noise is not None:
        run["noise"] = noise
    identity = None if random_actions else policy_identity(policy)
    if identity is not None and identity != f"sha256:{provenance.get('weights_sha256')}":
        run["policy_identity"] = identity  # weights hashes are in run["expert"] already
    return RunDescription(run, provenance, random_actions or identity is not None)


def function_name(function: Any) -> str:
    """How an ``enjoy`` function is named in the description (its import path)."""
    if isinstance(function, RecordingEnjoy):
        return repr(function)
    module = getattr(function, "__module__", "?")
    return f"{module}.{getattr(function, '__qualname__', type(function).__name__)}"


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
