"""Export to Minari (optional: ``pip install "imitation-datasets[minari]"``; imported lazily).

:func:`to_minari` writes one of our datasets as a Minari dataset that ``minari.load_dataset``
opens: per-episode reset seeds, the env spec rebuilt from Gymnasium's registry (also as the
evaluation env; the dataset's own spec is never copied), the reference ``ref_min_score`` (random
policy) and ``ref_max_score`` (expert) are kept, observations are stored losslessly (no JPEG), and
our whole ``metadata.json`` travels in the Minari metadata under ``imitation_datasets_metadata``.
Reading Minari datasets is :mod:`imitation_datasets.data.minari_io`, below the loaders; this
module accepts any dataset path, so it sits above them.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_paths import is_registered, registry_env_spec
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.minari_io import (
    METADATA_KEY,
    finite_number,
    import_minari,
    minari_dataset_path,
    open_minari_dataset,
)
from imitation_datasets.data.sources import LoadedData, load_source


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


def _spaces(arrays: DatasetArrays, metadata: dict[str, Any] | None) -> tuple[gym.Space,
                                                                             gym.Space]:
    from imitation_datasets.data.schema import space_from_dict

    env = (metadata or {}).get("env", {})
    if env.get("observation_space") and env.get("action_space"):
        return space_from_dict(env["observation_space"]), space_from_dict(env["action_space"])
    obs_space = gym.spaces.Box(-np.inf, np.inf, arrays.obs.shape[1:], arrays.obs.dtype)
    if arrays.actions.ndim == 1 and np.issubdtype(arrays.actions.dtype, np.integer):
        return obs_space, gym.spaces.Discrete(int(arrays.actions.max()) + 1)
    return obs_space, gym.spaces.Box(-np.inf, np.inf, arrays.actions.shape[1:],
                                     arrays.actions.dtype)


def to_minari(source: Any, dataset_id: str, *, author: str | None = None,
              author_email: str | None = None, code_permalink: str | None = None,
              description: str | None = None, data_format: str = "arrow") -> Any:
    """Write a dataset as the Minari dataset ``dataset_id``.

    Args:
        source: a dataset path (anything ``BaselineDataset`` reads), or ``LoadedData``.
        dataset_id: Minari id, ``(namespace/)(env_name/)dataset_name-v<version>``, e.g.
            ``"il-datasets/cartpole/expert-v0"``.
        author: Minari's ``author`` metadata.
        author_email: Minari's ``author_email`` metadata.
        code_permalink: Minari's ``code_permalink`` metadata.
        description: Minari's ``description`` (default: env id and creation command).
        data_format: Minari storage backend, ``"arrow"`` (default) or ``"hdf5"``.

    Returns:
        the ``minari.MinariDataset``, stored under Minari's datasets folder
        (``MINARI_DATASETS_PATH``).

    Raises:
        DatasetFormatError: the dataset has no final observations (the original layout), which
            Minari episodes require; an invalid ``dataset_id``; env kwargs that are not plain
            values (a path-like argument).
        ValueError: a dataset with this id already exists.
    """
    minari = import_minari()
    from minari.dataset.minari_storage import MinariStorage
    from minari.namespace import create_namespace, list_local_namespaces

    path = minari_dataset_path(dataset_id)
    loaded = source if isinstance(source, LoadedData) else load_source(source)
    arrays, metadata = loaded.arrays, loaded.metadata
    if arrays.final_obs is None or not isinstance(arrays.obs, np.ndarray):
        raise DatasetFormatError(
            f"{loaded.origin}: Minari episodes need every episode's final observation, which "
            "this dataset does not have (original IL-Datasets layout or image files)"
        )
    if path.exists():
        raise ValueError(f"a Minari dataset {dataset_id!r} already exists at {path}")
    namespace = minari.dataset.minari_dataset.parse_dataset_id(dataset_id)[0]
    if namespace is not None and namespace not in list_local_namespaces():
        create_namespace(namespace)
    (path / "data").mkdir(parents=True)
    obs_space, act_space = _spaces(arrays, metadata)
    env_spec = _env_spec(metadata, loaded.origin)
    storage = MinariStorage.new(path / "data", observation_space=obs_space,
                                action_space=act_space, env_spec=env_spec,
                                data_format=data_format, jpeg_encoding=False)
    storage.update_metadata(_minari_metadata(dataset_id, metadata, env_spec, author,
                                             author_email, code_permalink, description,
                                             minari.__version__))
    storage.update_episodes(_buffers(arrays))
    return open_minari_dataset(dataset_id)


def _minari_metadata(dataset_id: str, metadata: dict[str, Any] | None, env_spec: Any,
                     author: str | None, author_email: str | None, code_permalink: str | None,
                     description: str | None, version: str) -> dict[str, Any]:
    meta = metadata or {}
    expert = meta.get("expert", {})
    out: dict[str, Any] = {
        "dataset_id": dataset_id,
        "minari_version": version,
        "algorithm_name": str(expert.get("algo") or expert.get("id") or expert.get("kind")
                              or "unknown"),
        "description": description or (
            f"{meta.get('env', {}).get('id', 'unknown env')} expert dataset made with "
            f"imitation_datasets ({meta.get('creation', {}).get('command', '')})"),
    }
    if author:
        out["author"] = {author}
    if author_email:
        out["author_email"] = {author_email}
    if code_permalink:
        out["code_permalink"] = code_permalink
    if env_spec is not None:
        out["eval_env_spec"] = env_spec.to_json()
    reference = meta.get("reference", {})
    low = finite_number(reference.get("random_return_mean"))
    high = finite_number(reference.get("expert_return_mean", reference.get("dataset_return_mean")))
    if low is not None and high is not None:
        out["ref_min_score"] = low
        out["ref_max_score"] = high
        episodes = expert.get("evaluation_episodes")
        out["num_episodes_average_score"] = episodes if isinstance(episodes, int) and \
            not isinstance(episodes, bool) and episodes > 0 else 100
    if metadata is not None:
        out[METADATA_KEY] = json.dumps(metadata, allow_nan=False)
    return out


def _buffers(arrays: DatasetArrays) -> list[Any]:
    from minari.data_collector import EpisodeBuffer

    assert arrays.final_obs is not None
    buffers = []
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths, strict=True)):
        rows = slice(int(start), int(start + length))
        seed = int(arrays.seeds[e])
        buffers.append(EpisodeBuffer(
            id=e, seed=None if seed < 0 else seed,
            observations=np.concatenate([arrays.obs[rows], arrays.final_obs[e][None]]),
            actions=np.asarray(arrays.actions[rows]),
            rewards=np.asarray(arrays.rewards[rows]).tolist(),
            terminations=arrays.terminated[rows].tolist(),
            truncations=arrays.truncated[rows].tolist(),
        ))
    return buffers
