"""Small canonical datasets of every shipped expert, and their committed content fingerprints.

``python tests/golden.py`` collects them and prints the table to paste into
``GOLDEN_FINGERPRINTS`` below (only when the data are meant to change: a new expert, new
simulator versions, a changed collection rule; say why in the commit).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

GOLDEN_SEED = 2024
GOLDEN_EPISODES = 10

# content_fingerprint of GOLDEN_EPISODES episodes with dataset seed GOLDEN_SEED.
GOLDEN_FINGERPRINTS: dict[str, str] = {
    "acrobot": "c472b4d485c992da04c3ddde5e7df55d55361d08c138d0f28b12157c17ef729c",
    "acrobot-medium": "c7c72bcb30099499aa3769e605695a7d6fc8e061bc792bba5adea97633ca3a63",
    "ant": "82fa6a79748a2713f406f47433b497bec43203424acb69b467a810b74ecc5322",
    "bipedalwalker": "0731f345e70f8d7c07fb09c255289f827919c3bd23452f41e67e4e1add9cfa07",
    "cartpole": "c771ff7eb50e92aa00c575fac357be90eb1b493eb744bd505fea0d2cf402fd76",
    "cartpole-medium": "6b8e0bc396a9ae4e7cd3a3c4ffb02e9a71b511b4878c0f52df1396fc152c4d2c",
    "cheetah": "5b98387037334349b3700ddad051fe1170ef9a2699ad269417ac13a459aed0ef",
    "hopper": "2ac71b9bb65245aa3c2c799770f42545ba20c5fa5c3b520c094f225b5f52a355",
    "humanoid": "e72b3d83e54a1d56b7f8c784d068fcd2cac86dba79ecba986c1d4a0ab42dbd71",
    "inverteddoublependulum": "420a2786ae81248edb6b2e7bc57145690b7a21e49940556d3573b48a14ee9830",
    "invertedpendulum": "38bf2b71fa4fffe3ed8fdb5843086caace26462d24c1dcb2bb98755d91d030b1",
    "lunarlander": "cdb7122fc92eb47b08f5326cb92214bfaead59186d6a56d7d6ae8a1407548e6b",
    "lunarlander-medium": "f6043afbda18e3a72c73e2ea41d9af7438d44dfcd0272057ca6cd82e7d3fee28",
    "lunarlandercontinuous": "6da4e1291412c1c978a6e01855f81f8a39f8afb3d9b9f0e4810855337c91ad45",
    "mountaincar": "757bfca4f1538963e7d4eb4c8b76613aa55daea7e6d10cd2c5d1c4de9110fb39",
    "mountaincarcontinuous": "55349cd08062b6c2c098eae2ca3fe561a8b5da913e9db1a11a99e3265a3f8cfd",
    "pendulum": "1332b7aafe4ee0d3b556bebb205e9fc5f1cb14e9605afd18b60e5024a6f02a21",
    "pendulum-medium": "139dc0a2421258312a6469d55ced06d201a10c0353c8173e66d06560728b5566",
    "reacher": "12523bbccaebc3c26491d7334daeec6e9dfd5a65fe48d26008e4f95ee725f8e0",
    "swimmer": "ac67a65d12f49889df101d8355f8cab252cdd2a3f491a4542efd0cd06397ba11",
    "walker": "e8cd9447acaf6bd990da21f08783fd77596f75487df72fae5037948c64451154",
}


def collect_golden(key: str, out: Path, workers: int, envs_per_worker: int) -> Path:
    """The canonical small dataset of expert ``key`` with the given parallelism."""
    from imitation_datasets.controller import Controller
    from imitation_datasets.functions import baseline_collate, baseline_enjoy

    controller = Controller(baseline_enjoy, baseline_collate, episodes=GOLDEN_EPISODES,
                            workers=workers, envs_per_worker=envs_per_worker, path=out,
                            seed=GOLDEN_SEED, progress=False)
    return controller.start({"game": key, "mode": "all"})


def fingerprint(directory: Path) -> str:
    """Content fingerprint of the Parquet dataset in ``directory``."""
    from imitation_datasets.data.fingerprint import content_fingerprint
    from imitation_datasets.data.parquet import read_parquet

    return content_fingerprint(read_parquet(directory)[0])


def curated_keys() -> list[str]:
    """Registry keys of the shipped experts."""
    from imitation_datasets.experts.curated import CuratedExpert
    from imitation_datasets.experts.registry import Experts

    return sorted(k for k, e in Experts.get_register().items() if isinstance(e, CuratedExpert))


def numpy_simd_off(avx512_only: bool = False) -> str:
    """An ``NPY_DISABLE_CPU_FEATURES`` value that turns off NumPy's run-time dispatched SIMD paths.

    The names are this NumPy's own dispatch targets (NumPy 2.4 groups them as ``X86_V3``,
    ``X86_V4``, ...; older releases named ``AVX2``, ``AVX512F``, ...: a name NumPy does not
    dispatch is ignored without a word, so a hard-coded list can silently disable nothing).
    ``avx512_only`` keeps the AVX2 paths.
    """
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__ as dispatched
    except ImportError:  # NumPy 1.x
        dispatched = np.core._multiarray_umath.__cpu_dispatch__
    return " ".join(name for name in dispatched
                    if not avx512_only or name == "X86_V4" or name.startswith("AVX512"))


if __name__ == "__main__":
    import time

    keys = sys.argv[1:] or curated_keys()
    with tempfile.TemporaryDirectory() as tmp:
        for key in keys:
            start = time.perf_counter()
            value = fingerprint(collect_golden(key, Path(tmp) / key, 1, 1))
            print(f'    "{key}": "{value}",  # {time.perf_counter() - start:.1f} s', flush=True)
