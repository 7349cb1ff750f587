"""Random expert networks and the digest of their outputs (used in-process and in subprocesses).

``python tests/network_fixtures.py`` prints the digest; test_experts.py runs it under several
BLAS kernels and NumPy SIMD levels and compares with the committed golden value.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from imitation_datasets.experts.network import ExpertNetwork, exact_tanh  # noqa: E402


def random_network(rng: np.random.Generator, sizes: list[int], head: str = "identity"):
    """A tanh MLP with observation normalisation and random float32 weights."""
    layers, tensors = [], {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append({"op": "linear", "name": f"l{i}"})
        tensors[f"l{i}.weight"] = rng.standard_normal((b, a)).astype(np.float32)
        tensors[f"l{i}.bias"] = rng.standard_normal(b).astype(np.float32)
        if i < len(sizes) - 2:
            layers.append({"op": "tanh"})
    tensors["obs_mean"] = rng.standard_normal(sizes[0]).astype(np.float32)
    tensors["obs_var"] = rng.random(sizes[0]).astype(np.float32) + 0.5
    spec = {"layers": layers, "head": {"op": head}, "obs_norm": {"epsilon": 1e-8, "clip": 10.0}}
    return ExpertNetwork(spec, tensors, -np.ones(sizes[-1]), np.ones(sizes[-1]))


def network_digest() -> str:
    """sha256 of the actions of three random networks (shapes of the shipped experts) and tanh."""
    rng = np.random.default_rng(2026)
    digest = hashlib.sha256()
    for sizes, head in (([11, 64, 64, 3], "tanh_scale"), ([376, 256, 256, 17], "clip"),
                        ([4, 64, 64, 2], "argmax")):
        net = random_network(rng, sizes, head=head)
        obs = (rng.standard_normal((40, sizes[0])) * 3).astype(np.float32)
        digest.update(net(obs).tobytes())
    digest.update(exact_tanh((rng.standard_normal(4096) * 4).astype(np.float32)).tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    print(network_digest())
