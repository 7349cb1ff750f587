"""Cost of exact (fixed-order, BLAS-free) expert inference next to a BLAS forward pass.

For every curated expert, times one policy call on a batch of B observations (B = 1, 4, 16, the
envs per worker a collection steps together) with the shipped exact forward pass and with the
same network evaluated the usual way (``x @ W`` through BLAS, ``np.tanh``), side by side in one
process, and prints microseconds per call and their ratio. The BLAS column is the design the exact
pass replaced; its bytes depend on the CPU, BLAS kernel and batch position.

    python benchmarks/expert_inference.py [--keys cartpole,walker] [--repeats 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from imitation_datasets.experts.curated import load_zoo


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", default=None, help="comma-separated expert keys (default: all)")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--batches", default="1,4,16")
    args = parser.parse_args()
    keys = set(args.keys.split(",")) if args.keys else None
    batches = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(0)
    print("| expert | layers | " + " | ".join(f"B={b} exact / BLAS µs (ratio)" for b in batches)
          + " |")
    print("|---|---|" + "---|" * len(batches))
    for expert in load_zoo():
        if keys and expert.name not in keys:
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
        print(f"| {expert.name} | {shape} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
