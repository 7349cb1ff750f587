"""Minari interop (optional: ``pip install "imitation-datasets[minari]"``; imported lazily).

* :func:`to_minari` writes one of our datasets as a Minari dataset that ``minari.load_dataset``
  opens: per-episode reset seeds, the Gymnasium env spec (also as the evaluation env), the
  reference ``ref_min_score`` (random policy) and ``ref_max_score`` (expert) are kept, observations
  are stored losslessly (no JPEG), and our whole ``metadata.json`` travels in the Minari metadata
  under ``imitation_datasets_metadata``.
* :func:`from_minari` reads a Minari dataset (Box or Discrete spaces) into our arrays;
  :func:`minari_to_dataset` writes it as one of our dataset directories.

Minari episodes hold ``T + 1`` observations, so the final observation is never lost either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import DatasetFormatError, json_number, space_to_dict

METADATA_KEY = "imitation_datasets_metadata"


def _minari() -> Any:
    try:
        import minari
    except ImportError as exc:
        raise ImportError(
            'Minari interop needs minari: pip install "imitation-datasets[minari]"'
        ) from exc
    return minari


def _env_spec(metadata: dict[str, Any] | None) -> gym.envs.registration.EnvSpec | None:
    env = (metadata or {}).get("env", {})
    if env.get("spec"):
        try:
            return gym.envs.registration.EnvSpec.from_json(json.dumps(env["spec"]))
        except Exception:  # noqa: BLE001 - an unreadable spec: fall back to the id
            pass
    if env.get("id"):
        try:
            return gym.spec(env["id"])
        except gym.error.Error:
            return None
    return None


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


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


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
            Minari episodes require.
    """
    minari = _minari()
    from minari.dataset.minari_storage import MinariStorage
    from minari.namespace import create_namespace, list_local_namespaces
    from minari.storage import get_dataset_path

    from imitation_datasets.data.sources import LoadedData, load_source

    loaded = source if isinstance(source, LoadedData) else load_source(source)
    arrays, metadata = loaded.arrays, loaded.metadata
    if arrays.final_obs is None or not isinstance(arrays.obs, np.ndarray):
        raise DatasetFormatError(
            f"{loaded.origin}: Minari episodes need every episode's final observation, which "
            "this dataset does not have (original IL-Datasets layout or image files)"
        )
    path = Path(get_dataset_path(dataset_id))
    if path.exists():
        raise ValueError(f"a Minari dataset {dataset_id!r} already exists at {path}")
    namespace = minari.dataset.minari_dataset.parse_dataset_id(dataset_id)[0]
    if namespace is not None and namespace not in list_local_namespaces():
        create_namespace(namespace)
    (path / "data").mkdir(parents=True)
    obs_space, act_space = _spaces(arrays, metadata)
    env_spec = _env_spec(metadata)
    storage = MinariStorage.new(path / "data", observation_space=obs_space,
                                action_space=act_space, env_spec=env_spec,
                                data_format=data_format, jpeg_encoding=False)
    storage.update_metadata(_minari_metadata(dataset_id, metadata, env_spec, author,
                                             author_email, code_permalink, description,
                                             minari.__version__))
    storage.update_episodes(_buffers(arrays))
    return minari.load_dataset(dataset_id)


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
    low = _number(reference.get("random_return_mean"))
    high = _number(reference.get("expert_return_mean", reference.get("dataset_return_mean")))
    if low is not None and high is not None:
        out["ref_min_score"] = low
        out["ref_max_score"] = high
        out["num_episodes_average_score"] = int(expert.get("evaluation_episodes", 100))
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


def from_minari(dataset: Any) -> tuple[DatasetArrays, dict[str, Any]]:
    """Read a Minari dataset (an id or a ``MinariDataset``) into arrays and metadata.

    Our metadata is restored when the dataset was written by :func:`to_minari`; otherwise a
    metadata record is built from Minari's (env spec, spaces, reference scores, seeds).

    Raises:
        DatasetFormatError: Dict/Tuple spaces, or inconsistent episodes.
    """
    minari = _minari()
    if isinstance(dataset, str):
        name = dataset
        try:
            dataset = minari.load_dataset(dataset)
        except (FileNotFoundError, ValueError) as exc:
            raise DatasetFormatError(f"minari://{name}: cannot load ({exc})") from None
    origin = f"minari://{dataset.spec.dataset_id}"
    obs_space, act_space = dataset.observation_space, dataset.action_space
    for space in (obs_space, act_space):
        if not isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
            raise DatasetFormatError(
                f"{origin}: {type(space).__name__} spaces are not supported (Box and Discrete are)"
            )
    obs, final, actions, rewards, terminated, truncated, lengths = [], [], [], [], [], [], []
    for episode in dataset.iterate_episodes():
        observations = np.asarray(episode.observations)
        steps = len(episode.rewards)
        if len(observations) != steps + 1:
            raise DatasetFormatError(
                f"{origin}: episode {episode.id} has {len(observations)} observations for "
                f"{steps} steps (expected steps + 1)"
            )
        obs.append(observations[:-1])
        final.append(observations[-1])
        actions.append(np.asarray(episode.actions))
        rewards.append(np.asarray(episode.rewards, dtype=np.float64))
        terminated.append(np.asarray(episode.terminations, dtype=bool))
        truncated.append(np.asarray(episode.truncations, dtype=bool))
        lengths.append(steps)
    if not lengths:
        raise DatasetFormatError(f"{origin}: empty dataset")
    episode_meta = list(dataset.storage.get_episode_metadata(dataset.episode_indices))
    seeds = np.array([m.get("seed", -1) if m.get("seed") is not None else -1
                      for m in episode_meta], dtype=np.int64)
    raw = dataset.storage.metadata
    stored = raw.get(METADATA_KEY)
    metadata = json.loads(stored) if isinstance(stored, str) else None
    attempts = np.ones(len(lengths), dtype=np.int64)
    if metadata is not None and len(metadata.get("episodes", {}).get("attempts", ())) == \
            len(lengths):
        attempts = np.asarray(metadata["episodes"]["attempts"], dtype=np.int64)
    actions_array = np.concatenate(actions)
    if isinstance(act_space, gym.spaces.Discrete):
        actions_array = actions_array.reshape(-1).astype(np.int64)
    try:
        arrays = DatasetArrays(
            obs=np.concatenate(obs), actions=actions_array, rewards=np.concatenate(rewards),
            terminated=np.concatenate(terminated), truncated=np.concatenate(truncated),
            lengths=np.asarray(lengths, dtype=np.int64), final_obs=np.stack(final),
            seeds=seeds, attempts=attempts,
        )
    except ValueError as exc:
        raise DatasetFormatError(f"{origin}: {exc}") from None
    if metadata is None:
        metadata = _metadata_from_minari(dataset, arrays, raw)
    return arrays, metadata


def _metadata_from_minari(dataset: Any, arrays: DatasetArrays, raw: dict[str, Any]
                          ) -> dict[str, Any]:
    from imitation_datasets.data.metadata import build_metadata

    spec = dataset.spec.env_spec
    env = {
        "id": None if spec is None else spec.id,
        "kwargs": {} if spec is None else dict(spec.kwargs),
        "spec": None if spec is None else json.loads(spec.to_json()),
        "max_episode_steps": None if spec is None else spec.max_episode_steps,
        "observation_space": space_to_dict(dataset.observation_space),
        "action_space": space_to_dict(dataset.action_space),
    }
    reference: dict[str, Any] = {"dataset_return_mean": json_number(arrays.returns.mean())}
    if raw.get("ref_min_score") is not None:
        reference["random_return_mean"] = json_number(raw["ref_min_score"])
        reference["random_return_source"] = "minari ref_min_score"
    if raw.get("ref_max_score") is not None:
        reference["expert_return_mean"] = json_number(raw["ref_max_score"])
    return build_metadata(
        arrays, env=env,
        expert={"kind": "minari", "id": raw.get("algorithm_name")},
        collection={"minari_dataset_id": dataset.spec.dataset_id,
                    "minari_version": raw.get("minari_version")},
        acceptance={},
        reference=reference,
        creation={"command": f"from_minari({dataset.spec.dataset_id!r})"},
    )


def minari_to_dataset(dataset: Any, directory: str | Path) -> Path:
    """Import a Minari dataset (id or ``MinariDataset``) as one of our dataset directories."""
    from imitation_datasets.data.parquet import write_parquet

    arrays, metadata = from_minari(dataset)
    return write_parquet(directory, arrays, metadata)
