"""Do Reacher's and Pusher's rewards depend on the OpenBLAS kernel? Gymnasium's do; ours do not.

Gymnasium's ``Reacher-v5`` and ``Pusher-v5`` rewards are ``-np.linalg.norm(...)``, a BLAS dot
product; ``make_env`` swaps in classes with a portable norm (``core/portable_envs.py``). For each
OpenBLAS kernel this CPU can run (``OPENBLAS_CORETYPE``, read from ``/proc/cpuinfo``'s flags;
only the default elsewhere), a fresh process plays 20 seeded episodes of 50 random actions of each
env twice, in Gymnasium's env and in ours, and prints digests of the observations, the actions and
the rewards, and how many of 20 000 random 3-vectors' ``np.linalg.norm`` differ from
``portable_norm``. Same digest in a column = same bits under every kernel.

    python benchmarks/blas_rewards.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLAY = """
import hashlib, sys
import gymnasium as gym
import numpy as np
from imitation_datasets.core.portable_mujoco import portable_norm
from imitation_datasets.core.rollout import make_env

def digests(env):
    parts = {name: hashlib.sha256() for name in ("obs", "actions", "rewards")}
    actions = np.random.default_rng(1)
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        parts["obs"].update(obs.tobytes())
        for _ in range(50):
            action = actions.uniform(-1, 1, env.action_space.shape).astype(np.float32)
            obs, reward, *_ = env.step(action)
            parts["obs"].update(obs.tobytes())
            parts["actions"].update(action.tobytes())
            parts["rewards"].update(np.float64(reward).tobytes())
    return " ".join(parts[name].hexdigest()[:10] for name in parts)

for env_id in ("Reacher-v5", "Pusher-v5"):
    print(env_id, "gymnasium", digests(gym.make(env_id, disable_env_checker=True)))
    print(env_id, "portable", digests(make_env(env_id)))
vectors = np.random.default_rng(0).normal(size=(20000, 3))
print("norms", sum(np.linalg.norm(v) != portable_norm(v) for v in vectors))
"""

KERNELS = {  # OpenBLAS core type -> the /proc/cpuinfo flags it needs
    "SkylakeX": {"avx512f", "avx512bw", "avx512dq", "avx512vl"},
    "Haswell": {"avx2", "fma"},
    "Sandybridge": {"avx"},
    "Prescott": {"pni"},
}


def kernels() -> list[str]:
    """``default`` and the core types whose instructions this CPU has."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = set()
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    return ["default", *(name for name, needs in KERNELS.items() if needs <= flags)]


def play(kernel: str) -> dict[str, str]:
    """``PLAY``'s lines under ``kernel``, keyed by their first words."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if kernel != "default":
        env["OPENBLAS_CORETYPE"] = kernel
    out = subprocess.run([sys.executable, "-c", PLAY], env=env, capture_output=True, text=True,
                         check=True).stdout
    rows = {}
    for line in out.splitlines():
        words = line.split()
        key_length = 1 if words[0] == "norms" else 2
        rows[" ".join(words[:key_length])] = " ".join(words[key_length:])
    return rows


def main() -> None:
    """Print one table row per kernel."""
    names = kernels()
    results = {kernel: play(kernel) for kernel in names}
    columns = [key for key in results[names[0]] if key != "norms"]
    print("digests (obs actions rewards) of 20 episodes x 50 random actions; "
          "norms: np.linalg.norm != portable_norm, of 20000 random 3-vectors")
    for column in columns:
        print(f"\n{column}")
        for kernel in names:
            print(f"  {kernel:12s} {results[kernel][column]}")
    print("\nnorms")
    for kernel in names:
        print(f"  {kernel:12s} {results[kernel]['norms']} of 20000 differ")


if __name__ == "__main__":
    main()
