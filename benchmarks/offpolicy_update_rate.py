"""Off-policy training speed here: TD3 / SAC updates per second by network size.

Why the ``reacher`` and ``walker`` recipes use [64, 64] / [128, 128] networks instead of the usual
[256, 256]: on a CPU, an off-policy update (one env step plus one gradient step on a batch of 256)
costs roughly in proportion to the hidden width squared until Python overhead dominates. Each
configuration runs in a fresh subprocess with one torch thread: ``learning_starts`` random steps,
then ``--updates`` timed steps with one gradient update each.

Usage::

    python benchmarks/offpolicy_update_rate.py [--env Walker2d-v5] [--updates 3000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CONFIGS = [("TD3", [64, 64]), ("TD3", [128, 128]), ("TD3", [256, 256]), ("SAC", [256, 256])]

CHILD = """
import json, sys, time
import gymnasium as gym, torch
import stable_baselines3
torch.set_num_threads(1)
algo, arch, env_id, updates = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
model = getattr(stable_baselines3, algo)("MlpPolicy", gym.make(env_id), learning_starts=1000,
                                         batch_size=256, policy_kwargs={"net_arch": arch},
                                         seed=0, device="cpu", verbose=0)
model.learn(1000 + 200)
start = time.perf_counter()
model.learn(updates, reset_num_timesteps=False)
print(json.dumps({"updates_per_s": updates / (time.perf_counter() - start)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="Walker2d-v5")
    parser.add_argument("--updates", type=int, default=3000)
    args = parser.parse_args()
    print(f"{args.env}, batch 256, 1 torch thread, {args.updates} timed updates")
    print("| algo | hidden layers | updates/s |")
    print("|---|---|---|")
    for algo, arch in CONFIGS:
        out = subprocess.run([sys.executable, "-c", CHILD, algo, json.dumps(arch), args.env,
                              str(args.updates)], check=True, capture_output=True, text=True)
        rate = json.loads(out.stdout.strip().splitlines()[-1])["updates_per_s"]
        print(f"| {algo} | {arch} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
