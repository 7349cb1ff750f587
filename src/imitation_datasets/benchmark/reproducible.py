"""Benchmark numbers that do not depend on the CPU: the environment every cell's torch starts in.

Training a method on CPU goes through MKL's GEMM and ATen's vectorised kernels, and both pick
code paths by instruction set: the same cell trained with AVX-512 kernels and with SSE4.2 kernels
gave Pendulum BC returns that differ from the 9th digit on (and chaotic envs amplify such
differences). Two switches make the arithmetic the same on every x86-64 CPU, at a cost
(``python benchmarks/cpu_kernels.py``: an Adam step of the classic grid's 64-wide networks takes
about 1.5 x, of the continuous grid's 256-wide ones about 2.2 x the time of torch's own kernels;
an AVX2 floor would be as fast, but only for CPUs with AVX2, and would change every cell):

* ``MKL_CBWR=COMPATIBLE``: MKL's conditional numerical reproducibility mode, the same results
  whatever instructions the CPU has;
* ``ATEN_CPU_CAPABILITY=default``: ATen's non-vectorised kernels.

Both are read when torch loads, so they cannot be switched on in a process that has imported
torch already. The runner therefore plays every cell in a spawned worker process started with
:data:`CELL_ENVIRONMENT` (Ray tasks get it as their ``runtime_env``), and :func:`check_cell_process`
refuses to train a cell in a process started otherwise. Not covered: CPUs other than x86-64
(torch there does not use MKL), and not every x86-64 machine: on a lent Intel Xeon with AMX
(glibc 2.39, torch 2.11.0) every op a cell uses gave the bits it gives here (linear layers and
their gradients, tanh, exp, log, softmax, the random streams, initialisation) except an Adam
step, so cells trained there differ from the 9th digit on. The prime suspect is Adam's square
root: torch's float32 ``sqrt`` on CPU is not the correctly rounded one (17 % of results differ
from it here), so its bits depend on an implementation that picks its code by CPU, while every
other step of Adam is plain IEEE arithmetic in one binary (``benchmarks/torch_ops.py`` prints
per-op digests, to confirm it on such a machine; that ``sqrt`` is MKL's vector-maths function,
like ``exp``, ``tanh`` and ``log``, which did agree there). An Adam with a correctly rounded
square root would remove it, but changes every cell (a new protocol, every grid rerun), so it
is not done.
Here torch 2.11.0 and 2.13.0 give the same bits. Each cell records
:func:`torch_version`, and a results folder never mixes cells of two torch releases (the runner
treats a finished cell of another release as stale): a release may change a kernel.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from collections.abc import Iterator

from imitation_datasets.core.errors import ImitationDatasetsError

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


def torch_version() -> str:
    """The installed torch's release, without its build tag (``2.13.0`` for ``2.13.0+cpu``).

    Cells record it (see the module docstring); the CPU and CUDA builds of one release share
    their CPU kernels (2.11.0's CUDA build and 2.13.0's CPU build gave the same bits here).
    """
    return importlib.metadata.version("torch").split("+")[0]
