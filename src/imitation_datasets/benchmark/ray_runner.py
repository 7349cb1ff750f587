"""Benchmark cells as Ray tasks (one CPU each); results identical to the local runner.

Each cell is the same :func:`~imitation_datasets.benchmark.cells.run_cell` call the local
runner makes; it writes its result file itself, so the output folder must be reachable from the
Ray workers (one machine, or a shared filesystem). Finished cells are skipped before submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imitation_datasets.benchmark.cells import Cell, run_cell
from imitation_datasets.benchmark.reproducible import CELL_ENVIRONMENT
from imitation_datasets.collect.ray_backend import check_address


def run_cells_on_ray(cells: Sequence[Cell], data_dir: str, out_dir: str,
                     facts: dict[str, dict[str, Any]], address: str | None = None,
                     bar: Any = None, num_cpus: float = 1.0) -> list[dict[str, Any]]:
    """Run ``cells`` as Ray tasks; return their results in completion order."""
    try:
        import ray
    except ImportError:
        raise ImportError("backend='ray' needs Ray: pip install 'imitation-datasets[ray]'") \
            from None
    started_here = not ray.is_initialized()
    if started_here:
        check_address(address)  # a dead or foreign address fails in seconds, not minutes
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=num_cpus, max_retries=2,
                      runtime_env={"env_vars": dict(CELL_ENVIRONMENT)})(run_cell)
    try:
        pending = {task.remote(c, data_dir, out_dir, facts[c.env]): c for c in cells}
        results = []
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                pending.pop(ref)
                results.append(ray.get(ref))
                if bar is not None:
                    bar.update(1)
        return results
    finally:
        if started_here:
            ray.shutdown()
