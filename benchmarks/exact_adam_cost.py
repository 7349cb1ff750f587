"""What the correctly rounded square root costs: exact.Adam's step against torch.optim.Adam's.

Both optimisers step the same MLPs (the classic grid's 64-wide and the continuous grid's 256-wide
hidden layers) with fixed gradients, in this process under the cells' environment when started
as below, interleaved ``--rounds`` times; prints CPU microseconds per step, best of each.

    MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 \\
        python benchmarks/exact_adam_cost.py [--rounds 3] [--steps 2000]
"""

import argparse
import time

import torch

from imitation_datasets.methods import exact


def microseconds_per_step(adam: type[torch.optim.Optimizer], width: int, steps: int) -> float:
    """CPU microseconds per ``adam`` step over an 11-``width``-``width``-3 MLP's parameters."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(11, width), torch.nn.Tanh(),
                                torch.nn.Linear(width, width), torch.nn.ReLU(),
                                torch.nn.Linear(width, 3))
    optimizer = adam(model.parameters(), lr=1e-3)
    for param in model.parameters():
        param.grad = torch.randn_like(param)
    for _ in range(50):
        optimizer.step()
    started = time.process_time()
    for _ in range(steps):
        optimizer.step()
    return (time.process_time() - started) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("torch CPU capability:", torch.backends.cpu.get_cpu_capability())
    for width in (64, 256):
        best = {"torch.optim.Adam": float("inf"), "exact.Adam": float("inf")}
        for _ in range(args.rounds):
            best["torch.optim.Adam"] = min(best["torch.optim.Adam"], microseconds_per_step(
                torch.optim.Adam, width, args.steps))
            best["exact.Adam"] = min(best["exact.Adam"], microseconds_per_step(
                exact.Adam, width, args.steps))
        ratio = best["exact.Adam"] / best["torch.optim.Adam"]
        print(f"width {width:3d}: " + ", ".join(f"{k} {v:.0f} us" for k, v in best.items())
              + f" per step ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
