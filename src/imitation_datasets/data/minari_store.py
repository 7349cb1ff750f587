"""Minari as a storage backend (optional: ``pip install "imitation-datasets[minari]"``).

Reading is :func:`~imitation_datasets.data.minari_io.from_minari`. Writing goes through
Minari's public API, ``minari.create_dataset_from_buffers``: per-episode reset seeds, the env spec
rebuilt from Gymnasium's registry (also as the evaluation env; the dataset's own spec is never
copied), the reference ``ref_min_score`` (random policy) and ``ref_max_score`` (an expert's
return, never the dataset's own mean), stored as hdf5 (Minari's default) unless asked otherwise,
observations stored losslessly (no JPEG). Two things that function cannot record are added to
the new dataset's metadata with ``MinariDataset.storage.update_metadata``: our whole
``metadata.json`` (under ``imitation_datasets_metadata``), and the reference scores of a dataset
whose env is not registered here (the function keeps them only with an env). Minari builds the
(registry) env to read its spaces, and again to check the reference scores.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.core.safe_paths import is_registered, registry_env_spec
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.mapped import release_pages
from imitation_datasets.data.minari_io import (
    METADATA_KEY,
    finite_number,
    from_minari,
    import_minari,
    minari_dataset_path,
    open_minari_dataset,
)
from imitation_datasets.data.schema import dataset_spaces

DEFAULT_FORMAT = "hdf5"
"""Minari's own default storage; TorchRL's ``MinariExperienceReplay`` reads only this one."""
FORMATS = ("hdf5", "arrow")
RELEASE_ROWS = 1 << 15
"""Rows read from a memory-mapped dataset between two releases of its pages."""


def _env_spec(metadata: dict[str, Any] | None, origin: str
              ) -> gym.envs.registration.EnvSpec | None:
    """The env spec to export, rebuilt from Gymnasium's registry (never the file's spec).

    ``None`` when the dataset's env id is not registered here (or names a module to import);
    the dataset is then exported without an env spec.
    """
    env = (metadata or {}).get("env") or {}
    if not is_registered(env.get("id")):
        return None
    return registry_env_spec(env["id"], env.get("kwargs"), env.get("max_episode_steps"),
                             source=f"{origin}: metadata env", error=DatasetFormatError)


def _reference(metadata: dict[str, Any], expert_return: float | None = None) -> dict[str, Any]:
    """``ref_min_score``, ``ref_max_score`` and ``num_episodes_average_score`` (or nothing).

    ``ref_max_score`` is an expert's mean return: the metadata's ``expert_return_mean``, else
    ``expert_return``; never the dataset's own mean (a random dataset would score itself 1.0,
    and every normalised score of its users would be meaningless). Without one, no reference.
    """
    reference = metadata.get("reference", {})
    low = finite_number(reference.get("random_return_mean"))
    high = finite_number(reference.get("expert_return_mean"))
    if high is None and expert_return is not None:
        high = finite_number(expert_return)
    if low is None or high is None:
        return {}
    episodes = metadata.get("expert", {}).get("evaluation_episodes")
    count = episodes if isinstance(episodes, int) and not isinstance(episodes, bool) and \
        episodes > 0 else 100
    return {"ref_min_score": low, "ref_max_score": high, "num_episodes_average_score": count}


def _buffers(arrays: DatasetArrays) -> Iterator[Any]:
    """One Minari ``EpisodeBuffer`` per episode, built as Minari asks for it.

    Minari's storages consume the buffers one at a time, so only one episode's copy exists at
    once; a memory-mapped dataset's pages are released every :data:`RELEASE_ROWS` rows, so
    the export's memory does not grow with the dataset.
    """
    from minari.data_collector import EpisodeBuffer

    assert arrays.final_obs is not None
    read = 0
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths, strict=True)):
        rows = slice(int(start), int(start + length))
        seed = int(arrays.seeds[e])
        yield EpisodeBuffer(
            id=e, seed=None if seed < 0 else seed,
            observations=np.concatenate([arrays.obs[rows], arrays.final_obs[e][None]]),
            actions=np.array(arrays.actions[rows]),
            rewards=np.asarray(arrays.rewards[rows]).tolist(),
            terminations=arrays.terminated[rows].tolist(),
            truncations=arrays.truncated[rows].tolist(),
        )
        read += int(length)
        if read >= RELEASE_ROWS:
            release_pages(arrays.obs, arrays.actions, arrays.rewards, arrays.terminated,
                          arrays.truncated, arrays.final_obs)
            read = 0


def write_minari(data: LoadedData, dataset_id: str, *, author: str | None = None,
                 author_email: str | None = None, code_permalink: str | None = None,
                 description: str | None = None, data_format: str = DEFAULT_FORMAT,
                 expert_return: float | None = None) -> Any:
    """Write ``data`` as the Minari dataset ``dataset_id`` (see the module docstring).

    ``data_format`` is Minari's storage, ``"hdf5"`` (Minari's default, and the only one
    TorchRL's ``MinariExperienceReplay`` reads) or ``"arrow"``; ``expert_return`` is the
    ``ref_max_score`` of a dataset whose metadata has no expert return (a random dataset).

    Returns:
        the ``minari.MinariDataset``, reopened without building an env from its files.

    Raises:
        DatasetFormatError: no final observations (the original layout) or image files, which
            Minari episodes cannot hold; an invalid ``dataset_id``.
        ValueError: a dataset with this id already exists.
    """
    minari = import_minari()
    path = minari_dataset_path(dataset_id)
    arrays, metadata = data.arrays, data.metadata
    if arrays.final_obs is None or not isinstance(arrays.obs, np.ndarray):
        raise DatasetFormatError(
            f"{data.origin}: Minari episodes need every episode's final observation, which "
            "this dataset does not have (original IL-Datasets layout or image files)"
        )
    if path.exists():
        raise ValueError(f"a Minari dataset {dataset_id!r} already exists at {path}")
    if data_format not in FORMATS:
        raise ValueError(f"data_format={data_format!r}: Minari stores 'hdf5' or 'arrow'")
    require_extra("minari", f"Minari's {data_format} storage",
                  ("h5py",) if data_format == "hdf5" else ("pyarrow",))
    meta = metadata or {}
    expert = meta.get("expert", {})
    obs_space, act_space = dataset_spaces(metadata, arrays.obs, arrays.actions)
    env_spec = _env_spec(metadata, data.origin)
    reference = _reference(meta, expert_return)
    with warnings.catch_warnings():  # Minari warns about every optional field left out
        warnings.filterwarnings("ignore", category=UserWarning, module="minari")
        dataset = minari.create_dataset_from_buffers(
            dataset_id, _buffers(arrays), env=env_spec, eval_env=env_spec,
            algorithm_name=str(expert.get("algo") or expert.get("id") or expert.get("kind")
                               or "unknown"),
            author=author or None, author_email=author_email or None,
            code_permalink=code_permalink or None,
            observation_space=obs_space, action_space=act_space,
            description=description or (
                f"{meta.get('env', {}).get('id', 'unknown env')} expert dataset made with "
                f"imitation_datasets ({meta.get('creation', {}).get('command', '')})"),
            data_format=data_format, jpeg_encoding=False,
            **(reference if env_spec is not None else {}))
    extra = {} if env_spec is not None else dict(reference)
    if metadata is not None:
        extra[METADATA_KEY] = json.dumps(metadata, allow_nan=False)
    if extra:
        dataset.storage.update_metadata(extra)
    return open_minari_dataset(dataset_id)


class MinariStore:
    """Storage backend ``"minari"``: a Minari dataset id in ``MINARI_DATASETS_PATH``."""

    name = "minari"

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """:func:`~imitation_datasets.data.minari_io.from_minari` (Minari has one split)."""
        arrays, metadata = from_minari(str(location))
        return LoadedData(arrays, metadata, origin or f"minari://{location}")

    def write(self, data: LoadedData, location: str | Path, **options: Any) -> Any:
        """:func:`write_minari` (``options``: author, description, data_format...)."""
        return write_minari(data, str(location), **options)
