"""Benchmark numbers that do not depend on the CPU: the environment every cell's torch starts in.

Training a method on CPU goes through MKL's GEMM and ATen's vectorised kernels, and both pick
code paths by instruction set: the same cell trained with AVX-512 kernels and with SSE4.2 kernels
gave Pendulum BC returns that differ from the 9th digit on (and chaotic envs amplify such
differences). Two switches pin those code paths on every x86-64 CPU, at a cost
(``python benchmarks/cpu_kernels.py``: an Adam step of the classic grid's 64-wide networks takes
about 1.5 x, of the continuous grid's 256-wide ones about 2.2 x the time of torch's own kernels;
an AVX2 floor would be as fast, but only for CPUs with AVX2, and would change every cell):

* ``MKL_CBWR=COMPATIBLE``: MKL's conditional numerical reproducibility mode, the same results
  whatever instructions the CPU has;
* ``ATEN_CPU_CAPABILITY=default``: ATen's non-vectorised kernels.

Both are read when torch loads, so they cannot be switched on in a process that has imported
torch already. The runner therefore plays every cell in a spawned worker process started with
:data:`CELL_ENVIRONMENT` (Ray tasks get it as their ``runtime_env``), and :func:`check_cell_process`
refuses to train a cell in a process started otherwise.

Those two switches are not enough on their own: torch's element-wise ``sqrt`` is MKL's
vector-maths function, which is not correctly rounded and whose bits still depend on the CPU
(an AMD EPYC, an Intel Xeon with AVX-512 and ``qemu-x86_64 -cpu EPYC`` gave three sets of bits;
every other op a cell uses agreed, :mod:`imitation_datasets.methods.exact`). Adam takes that
square root at every step, so cells trained with ``torch.optim.Adam`` (**arithmetic 1**, every
cell that records no ``arithmetic``) can be reproduced only on a machine whose MKL rounds its
square roots the same way: the committed grids were trained on AMD EPYC machines, and on the
Intel one ``tests/test_benchmark_reproducible.py``'s digest differed. Methods now train with
:class:`~imitation_datasets.methods.exact.Adam` and the correctly rounded square root
(**arithmetic 2**, :data:`ARITHMETIC`): ``tests/scripts/train_digest.py`` gave the same bits on the
Intel Xeon and under ``qemu-x86_64 -cpu EPYC`` and ``-cpu Nehalem``. Each cell records the
arithmetic it was trained with, and the runner treats a finished cell of another arithmetic as
stale, like one of another torch release (a release may change a kernel; torch 2.11.0 and 2.13.0
gave the same bits here): a results folder never mixes two. Not covered: CPUs other than
x86-64 (torch there does not use MKL).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.processes import die_with_parent

ARITHMETIC = 2
"""The cells' arithmetic (module docstring): 1 ``torch.optim.Adam``, 2 :mod:`~.methods.exact`."""

CELL_ENVIRONMENT = {
    "MKL_CBWR": "COMPATIBLE",
    "ATEN_CPU_CAPABILITY": "default",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
"""Environment variables of every process that trains a benchmark cell."""


class ReproducibilityError(ImitationDatasetsError, RuntimeError):
    """A cell would be trained by a torch whose arithmetic depends on the CPU."""


@contextlib.contextmanager
def cell_environment() -> Iterator[None]:
    """Set :data:`CELL_ENVIRONMENT` while worker processes are spawned; restore it afterwards."""
    saved = {name: os.environ.get(name) for name in CELL_ENVIRONMENT}
    os.environ.update(CELL_ENVIRONMENT)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def check_cell_process() -> None:
    """Refuse to train in a process whose torch was not started with :data:`CELL_ENVIRONMENT`.

    Raises:
        ReproducibilityError: one line naming what is missing.
    """
    import torch

    capability = torch.backends.cpu.get_cpu_capability()
    problems = [f"{name}={os.environ.get(name)!r}" for name in ("MKL_CBWR", "ATEN_CPU_CAPABILITY")
                if os.environ.get(name) != CELL_ENVIRONMENT[name]]
    if capability != "DEFAULT":
        problems.append(f"torch CPU capability {capability}")
    if problems:
        raise ReproducibilityError(
            "benchmark cells train only in a process started with MKL_CBWR=COMPATIBLE and "
            "ATEN_CPU_CAPABILITY=default (run_benchmark starts such workers); this one has "
            + ", ".join(problems))


def cell_pool(workers: int) -> ProcessPoolExecutor:
    """The worker processes that play benchmark cells.

    Always fresh spawned workers (even for one): started inside :func:`cell_environment`, their
    torch has the CPU-independent kernels whatever this process imported. Each dies with this
    process (a killed driver does not leave cells computing and writing behind it).
    """
    return ProcessPoolExecutor(max_workers=max(1, workers),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent)


T = TypeVar("T")


def call_in_cell_process(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in a spawned process started with :data:`CELL_ENVIRONMENT`.

    For training outside the benchmark's worker pool that must give the same bits on every CPU
    (the expert zoo's levels). ``function`` and ``args`` go to the worker by ``multiprocessing``
    (module-level function, picklable arguments: this process's own objects, never a file's).
    """
    with cell_environment(), cell_pool(1) as pool:
        return pool.submit(_checked_call, function, *args).result()


def _checked_call(function: Callable[..., T], *args: Any) -> T:
    check_cell_process()
    return function(*args)


def arithmetic_line(cells: Sequence[dict[str, Any]]) -> str:
    """Which training arithmetic the cells used (``benchmark/reproducible.py``), in one line."""
    counts = Counter(cell.get("arithmetic", 1) for cell in cells)
    parts = [f"{n} cell(s) with arithmetic {k}" + (
        " (torch's Adam, whose square root rounds by CPU: they reproduce bit for bit only on "
        "a CPU that rounds it the same way)" if k == 1 else "") for k, n in sorted(counts.items())]
    note = "" if set(counts) <= {ARITHMETIC} else (
        f"; the current code trains with arithmetic {ARITHMETIC} and adds no cell to this folder")
    listed = ", ".join(parts) or "no cells"
    return f"Training arithmetic (`benchmark/reproducible.py`): {listed}{note}."


def torch_version() -> str:
    """The installed torch's release, without its build tag (``2.13.0`` for ``2.13.0+cpu``).

    Cells record it (see the module docstring); the CPU and CUDA builds of one release share
    their CPU kernels (2.11.0's CUDA build and 2.13.0's CPU build gave the same bits here).
    """
    return importlib.metadata.version("torch").split("+")[0]
