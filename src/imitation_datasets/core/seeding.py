"""Every seed the library uses, derived in one place.

Seed ranges: dataset episodes use :func:`episode_seed` (any ``uint32``); expert cards
``[1e9, 1e9 + episodes)``; expert checkpoint selection ``[2e9, ...)``; benchmark validation
``[2.5e9, ...)`` and test ``[3.5e9, ...)``, each skipping seeds a dataset used.

Episode ``i`` of a dataset created with seed ``s`` is reset with ``episode_seed(s, i, 0)``; when
that attempt is rejected, attempt ``a`` uses ``episode_seed(s, i, a)``. The value depends only on
``(s, i, a)``, never on worker count or scheduling, so datasets are reproducible byte for byte.
"""

from __future__ import annotations

import numpy as np

EXPERT_EVAL_SEED_START = 1_000_000_000
"""Expert cards are measured on the seeds ``EXPERT_EVAL_SEED_START + k`` for ``k < episodes``."""

EXPERT_SELECTION_SEED_START = 2_000_000_000
"""Expert training keeps the checkpoint that does best on ``EXPERT_SELECTION_SEED_START + k``:
never the card's seeds, so a card does not measure the seeds its checkpoint was chosen on."""

BENCHMARK_VALIDATION_SEED_START = 2_500_000_000
"""The benchmark's validation seeds (model selection of a trained method) start here; the
protocol skips any that a dataset episode used."""

BENCHMARK_TEST_SEED_START = 3_500_000_000
"""The benchmark's test seeds (the reported numbers) start here, disjoint from validation and
from every dataset episode."""


def episode_seed(dataset_seed: int, episode_index: int, attempt: int = 0) -> int:
    """Return the environment reset seed of one attempt at one dataset episode.

    Args:
        dataset_seed: the dataset's seed (a non-negative integer).
        episode_index: index of the episode in the dataset (``0 <= i``).
        attempt: 0 for the first attempt, then 1, 2, ... for retries after a rejection.

    Returns:
        A seed in ``[0, 2**32)`` suitable for ``env.reset(seed=...)``.
    """
    for name, value in (("dataset_seed", dataset_seed), ("episode_index", episode_index),
                        ("attempt", attempt)):
        if int(value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    sequence = np.random.SeedSequence(int(dataset_seed),
                                      spawn_key=(int(episode_index), int(attempt)))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])


def expert_eval_seeds(episodes: int = 100) -> list[int]:
    """Seeds on which expert cards report their returns."""
    return [EXPERT_EVAL_SEED_START + k for k in range(episodes)]


def loader_epoch_seed(seed: int, epoch: int) -> int:
    """Return the seed of epoch ``epoch`` of a loader seeded with ``seed``.

    Epoch 0 is ``seed`` itself (so a loader's first epoch is ``batches(seed=seed)``'s order);
    epoch ``n > 0`` a ``uint64`` derived from ``(seed, n)`` alone, so any epoch can be replayed
    without the ones before it.
    """
    for name, value in (("seed", seed), ("epoch", epoch)):
        if int(value) < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if int(epoch) == 0:
        return int(seed)
    sequence = np.random.SeedSequence(int(seed), spawn_key=(int(epoch),))
    return int(sequence.generate_state(1, dtype=np.uint64)[0])
