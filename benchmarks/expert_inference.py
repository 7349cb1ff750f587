"""Cost of exact (correctly rounded) expert inference next to a plain BLAS forward pass.

For every curated expert, times one policy call on a batch of B observations (B = 1, 4, 16, the
envs per worker a collection steps together) with the shipped exact forward pass and with the
same network evaluated the usual way (``x @ W`` through BLAS, ``np.tanh``), side by side in one
process, and prints microseconds per call and their ratio. The BLAS column is the design the
exact pass replaced; its bytes depend on the CPU, BLAS kernel and batch position. It also counts,
on states the expert visits, the layer outputs the fast float64 path could not decide (which were
computed exactly instead).

    python benchmarks/expert_inference.py [--keys cartpole,walker] [--repeats 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import imitation_datasets.experts.network as network_module
from imitation_datasets.core.rollout import make_env
from imitation_datasets.experts.curated import CuratedExpert
from imitation_datasets.experts.registry import Experts


def blas_forward(network, obs: np.ndarray) -> np.ndarray:
    """The network's logits through BLAS and NumPy's tanh (not machine-independent)."""
    x = obs
    if network._norm is not None:
        mean, scale, clip = network._norm
        x = np.clip((x - mean) * scale, -clip, clip)
    for op, arg in network._program:
        if op == "linear":
            x = x @ arg.weight_t + arg.bias
        else:
            x = np.tanh(x) if op == "tanh" else np.maximum(x, np.float32(0.0))
    return x


def per_call_us(function, obs: np.ndarray, repeats: int) -> float:
    """Median of 5 timings of ``repeats`` calls, in microseconds per call."""
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            function(obs)
        timings.append((time.perf_counter() - start) / repeats * 1e6)
    return float(np.median(timings))


def visited_states(expert, steps: int) -> np.ndarray:
    """``steps`` observations the expert visits (episodes seeded 0, 1, ...)."""
    env = make_env(expert.env_id, expert.env_kwargs)
    observations, episode = [], 0
    obs, _ = env.reset(seed=episode)
    while len(observations) < steps:
        observations.append(np.asarray(obs, np.float32).ravel())
        action = expert.predict(observations[-1][None])[0][0]
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=episode)
    env.close()
    return np.stack(observations)


def undecided_share(network, obs: np.ndarray) -> tuple[int, int]:
    """(elements the exact slow paths computed, elements computed) for one forward pass."""
    counts = {"slow": 0}
    originals = (network_module._exact_dot, network_module._decimal_tanh)

    def counted(function):
        def wrapper(*args):
            counts["slow"] += 1
            return function(*args)
        return wrapper

    network_module._exact_dot, network_module._decimal_tanh = map(counted, originals)
    try:
        network._forward(obs)
    finally:
        network_module._exact_dot, network_module._decimal_tanh = originals
    widths = [layer.weight_t.shape[1] if op == "linear" else None
              for op, layer in network._program]
    total = 0
    for i, (op, _) in enumerate(network._program):
        total += len(obs) * (widths[i] if op == "linear" else
                             (widths[i - 1] if op == "tanh" else 0))
    return counts["slow"], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", default=None, help="comma-separated expert keys (default: all)")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--batches", default="1,4,16")
    parser.add_argument("--states", type=int, default=2000,
                        help="visited states on which the undecided share is counted")
    args = parser.parse_args()
    keys = set(args.keys.split(",")) if args.keys else None
    batches = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(0)
    print("| expert | layers | " + " | ".join(f"B={b} exact / BLAS µs (ratio)" for b in batches)
          + f" | undecided elements on {args.states} visited states |")
    print("|---|---|" + "---|" * (len(batches) + 1))
    slow_all = total_all = 0
    for key, expert in sorted(Experts.get_register().items()):
        if not isinstance(expert, CuratedExpert) or (keys and key not in keys):
            continue
        network = expert.load()._network
        sizes = [arg.weight_t.shape for op, arg in network._program if op == "linear"]
        shape = "-".join([str(sizes[0][0])] + [str(s[1]) for s in sizes])
        cells = []
        for batch in batches:
            obs = rng.standard_normal((batch, network.input_dim)).astype(np.float32)
            exact = per_call_us(network._forward, obs, args.repeats)
            blas = per_call_us(lambda o, n=network: blas_forward(n, o), obs, args.repeats)
            cells.append(f"{exact:.1f} / {blas:.1f} ({exact / blas:.1f}x)")
        slow, total = undecided_share(network, visited_states(expert, args.states))
        slow_all, total_all = slow_all + slow, total_all + total
        cells.append(f"{slow} of {total:,}")
        print(f"| {key} | {shape} | " + " | ".join(cells) + " |")
    print(f"\nundecided overall: {slow_all} of {total_all:,} elements "
          f"({slow_all / max(total_all, 1):.1e})")


if __name__ == "__main__":
    main()
