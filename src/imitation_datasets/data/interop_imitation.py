"""The ``imitation`` library (HumanCompatibleAI): a dataset as its saved trajectories.

:func:`to_imitation` writes a folder that ``imitation.data.serialize.load(folder)`` reads as a
sequence of ``TrajectoryWithRew`` without this library: a ``datasets.Dataset``
(``save_to_disk``), one row per episode, in the columns ``imitation`` 1.0 writes itself
(``imitation.data.huggingface_utils.trajectories_to_dict``): ``obs`` (the episode's ``T``
observations and its final one, ``T + 1`` rows), ``acts`` (``T``), ``infos`` (``T`` empty dicts,
as JSON ``"{}"``), ``terminal`` (our ``terminated``: true when the episode reached a terminal
state, false when it was truncated) and ``rews`` (``T``, float64).

``imitation`` 1.0.1 needs ``gymnasium~=0.29`` and cannot share an environment with this library
(gymnasium >= 1.0): write the folder here, load it there (``benchmarks/interop_imitation.py``
does both, in two environments). Writing needs the ``[hf]`` extra (``datasets``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from imitation_datasets.core.extras import require_extra
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.arrow import flat_array, nested_array
from imitation_datasets.data.interop import Source, interop_source


def _per_episode(values: pa.Array, lengths: np.ndarray) -> pa.Array:
    """``values`` (one row per step) grouped into one list per episode."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(lengths)
    return pa.ListArray.from_arrays(flat_array(offsets), values)


def trajectory_table(arrays: DatasetArrays) -> pa.Table:
    """``imitation``'s trajectory columns (module docstring), one row per episode."""
    assert arrays.final_obs is not None
    with_final = np.concatenate([
        np.concatenate([arrays.obs[start:start + length], arrays.final_obs[e][None]])
        for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths, strict=True))])
    last = arrays.starts + arrays.lengths - 1
    infos = pa.array(["{}"] * arrays.n_steps, type=pa.string())
    columns = {
        "obs": _per_episode(nested_array(with_final), arrays.lengths + 1),
        "acts": _per_episode(nested_array(np.ascontiguousarray(arrays.actions)), arrays.lengths),
        "infos": _per_episode(infos, arrays.lengths),
        "terminal": flat_array(arrays.terminated[last]),
        "rews": _per_episode(flat_array(arrays.rewards.astype(np.float64)), arrays.lengths),
    }
    return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def to_imitation(source: Source, folder: str | Path) -> Path:
    """Write ``source`` as trajectories that ``imitation.data.serialize.load(folder)`` reads.

    Args:
        source: a dataset path, arrays, ``LoadedData`` or a ``BaselineDataset`` (its split).
        folder: the folder to write (``datasets.Dataset.save_to_disk``).
    """
    require_extra("hf", "to_imitation", ("datasets",))
    import datasets
    from datasets.table import InMemoryTable

    loaded = interop_source(source, "imitation's trajectories")
    table = trajectory_table(loaded.arrays)
    quiet = not datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # the folder is the result, not a progress bar
    try:
        datasets.Dataset(InMemoryTable(table)).save_to_disk(str(folder))
    finally:
        if not quiet:
            datasets.enable_progress_bars()
    return Path(folder)


__all__ = ["to_imitation", "trajectory_table"]
