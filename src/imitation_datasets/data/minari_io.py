"""Reading Minari datasets (optional: ``pip install "imitation-datasets[minari]"``; lazily).

* :func:`from_minari` reads a Minari dataset (Box or Discrete spaces) into our arrays;
  :func:`minari_to_dataset` writes it as one of our dataset directories.
* Writing is the ``minari`` storage backend (``minari_store.py``); ``to_minari``
  (``minari_export.py``) accepts any dataset path.

Nothing in a Minari file runs code here: ids are validated and stay inside
``MINARI_DATASETS_PATH``; a file's env spec is parsed but never instantiated (spaces come from the
file's space descriptions, or from Gymnasium's registry for a registered id); an exported env
spec is rebuilt from the registry, never copied from the dataset.

Minari episodes hold ``T + 1`` observations, so the final observation is never lost either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.core.safe_paths import check_inside, is_registered, registry_env_spec
from imitation_datasets.core.safe_read import read_json, require_regular
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import build_metadata, checked_metadata
from imitation_datasets.data.parquet import write_parquet
from imitation_datasets.data.schema import env_description, json_number

METADATA_KEY = "imitation_datasets_metadata"
# (namespace/)name-v<version>: ASCII letters, digits, '_' and '-' per segment (no '.', no '..').
MINARI_ID = re.compile(r"(?:[A-Za-z0-9_][-\w]*/)*[A-Za-z0-9_][-\w]*-v\d+", re.ASCII)
MAX_ID_LENGTH = 255
MAX_SPACE_ELEMENTS = 1 << 24


def import_minari() -> Any:
    """The ``minari`` module, or a one-line ``MissingExtraError`` naming the extra to install."""
    require_extra("minari", "Minari interop")
    import minari

    return minari


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def minari_dataset_path(dataset_id: Any) -> Path:
    """The folder of the Minari dataset ``dataset_id`` inside Minari's datasets folder.

    Raises:
        DatasetFormatError: ``dataset_id`` is not ``(namespace/)name-v<version>`` made of ASCII
            letters, digits, ``_`` and ``-`` (so no ``..``, no absolute path), or its folder is
            a symlink leading out of ``MINARI_DATASETS_PATH``.
    """
    if not isinstance(dataset_id, str) or len(dataset_id) > MAX_ID_LENGTH or \
            not MINARI_ID.fullmatch(dataset_id):
        raise DatasetFormatError(
            f"invalid Minari dataset id {repr(dataset_id)[:80]}: expected "
            "(namespace/)name-v<version> made of ASCII letters, digits, '_' and '-'"
        )
    import_minari()
    from minari.storage import get_dataset_path

    root = Path(get_dataset_path())
    return check_inside(root / dataset_id, root, source=f"minari://{dataset_id}",
                        error=DatasetFormatError)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def open_minari_dataset(dataset_id: str) -> Any:
    """A ``MinariDataset`` read without ever building an env from the file's env spec.

    ``minari.load_dataset`` calls ``gym.make`` on the spec stored in ``metadata.json`` when a
    space is missing (its entry point may be ``"os:system"``), and joins the id to its folder
    unchecked. Here the id is validated, the spaces come from the file's space descriptions
    (checked, bounded) or else from Gymnasium's registry for a registered id, and the storage
    is built with those spaces.
    """
    minari = import_minari()
    from minari.dataset._storages import get_minari_storage, get_storage_keys

    origin = f"minari://{dataset_id}"
    data = minari_dataset_path(dataset_id) / "data"
    if not data.is_dir():
        raise DatasetFormatError(f"{origin}: cannot load (no dataset at {data.parent}; local "
                                 "Minari datasets live in MINARI_DATASETS_PATH)")
    raw = read_json(data / "metadata.json")
    if not isinstance(raw, dict):
        raise DatasetFormatError(f"{data / 'metadata.json'}: not a JSON object")
    kind = raw.get("data_format")
    if kind not in get_storage_keys():
        raise DatasetFormatError(f"{origin}: unknown data_format {str(kind)[:40]!r} "
                                 f"(Minari has {get_storage_keys()})")
    _check_files(data, raw, origin)
    obs_space, act_space = _file_spaces(raw, origin)
    try:
        storage = get_minari_storage(kind)(data, obs_space, act_space,
                                           jpeg_encoding=bool(raw.get("jpeg_encoding", True)))
        return minari.MinariDataset(storage)
    except (ImportError, ValueError, AssertionError, KeyError, TypeError) as exc:
        raise DatasetFormatError(f"{origin}: cannot load ({_one_line(exc)})") from None


def _check_files(data: Path, raw: dict[str, Any], origin: str) -> None:
    """Check the files under ``data`` before Minari reads them.

    ``total_episodes`` is bounded by what is on disk, symlinks may not lead out of ``data``, and
    every file must be regular (a FIFO would block Minari's reader forever).
    """
    entries = 0
    for folder, dirs, files in os.walk(data):
        for name in (*dirs, *files):
            entries += 1
            if os.path.islink(os.path.join(folder, name)):
                check_inside(Path(folder, name), data, source=origin, error=DatasetFormatError)
        for name in files:
            require_regular(Path(folder, name))
    total = raw.get("total_episodes", 0)
    hdf5 = data / "main_data.hdf5"
    bound = hdf5.stat().st_size if raw.get("data_format") == "hdf5" and hdf5.is_file() \
        else entries
    if not isinstance(total, int) or isinstance(total, bool) or not 0 <= total <= bound:
        raise DatasetFormatError(f"{origin}: metadata.json total_episodes {str(total)[:40]} "
                                 f"does not match the {entries} files in {data}")


SPACE_KEYS = ("observation_space", "action_space")


def _file_spaces(raw: dict[str, Any], origin: str) -> tuple[gym.Space, gym.Space]:
    spaces = {key: _stored_space(raw[key], key, origin) for key in SPACE_KEYS if key in raw}
    if len(spaces) < len(SPACE_KEYS):
        spaces = {**_registry_spaces(raw, origin), **spaces}
    return spaces["observation_space"], spaces["action_space"]


def _stored_space(text: Any, key: str, origin: str) -> gym.Space:
    """A space from its Minari description, checked before numpy allocates anything."""
    from minari.serialization import deserialize_space

    where = f"{origin}: metadata.json {key}"
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except (json.JSONDecodeError, RecursionError):
        raise DatasetFormatError(f"{where} is not valid JSON") from None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("Box", "Discrete"):
        raise DatasetFormatError(
            f"{origin}: {str(kind)[:40]} spaces are not supported (Box and Discrete are)")
    if kind == "Box":
        _check_box(value, where)
    try:
        return deserialize_space(value)
    except Exception as exc:  # noqa: BLE001 - any malformed description, in one line
        raise DatasetFormatError(f"{where} is not a valid space ({_one_line(exc)})") from None


def _check_box(value: dict[str, Any], where: str) -> None:
    shape, dtype = value.get("shape"), value.get("dtype")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise DatasetFormatError(f"{where}: shape must be a list of non-negative integers")
    if int(np.prod(shape, dtype=object)) > MAX_SPACE_ELEMENTS:
        raise DatasetFormatError(f"{where}: shape {shape} is larger than "
                                 f"{MAX_SPACE_ELEMENTS} values")
    try:
        numeric = isinstance(dtype, str) and np.dtype(dtype).kind in "biuf"
    except TypeError:
        numeric = False
    if not numeric:
        raise DatasetFormatError(f"{where}: dtype {str(dtype)[:40]!r} is not a numeric dtype")


def _registry_spaces(raw: dict[str, Any], origin: str) -> dict[str, gym.Space]:
    """Spaces of the registered env the file's ``env_spec`` names (registry entry, no kwargs).

    The file's entry point, kwargs and wrappers are never used: only its id, and only when
    Gymnasium's registry already has it.
    """
    try:
        env_id = json.loads(raw["env_spec"]).get("id")
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, RecursionError):
        env_id = None
    where = f"{origin}: metadata.json has no observation_space/action_space and its env_spec"
    if not is_registered(env_id):
        raise DatasetFormatError(f"{where} id {str(env_id)[:80]!r} is not a registered "
                                 "Gymnasium id (a file's env spec is never instantiated)")
    try:
        env = gym.make(env_id, disable_env_checker=True)
    except Exception as exc:  # noqa: BLE001 - e.g. a simulator that is not installed
        raise DatasetFormatError(f"{where} env {env_id!r} cannot be made ({_one_line(exc)})") \
            from None
    try:
        return {"observation_space": env.observation_space, "action_space": env.action_space}
    finally:
        env.close()


def from_minari(dataset: Any) -> tuple[DatasetArrays, dict[str, Any]]:
    """Read a Minari dataset (an id or a ``MinariDataset``) into arrays and metadata.

    An id is read from ``MINARI_DATASETS_PATH`` without ``minari.load_dataset``: nothing in the
    files builds an environment or imports a module (see :func:`open_minari_dataset`).

    Our metadata is restored when the dataset was written by :func:`to_minari`; otherwise a
    metadata record is built from Minari's (env spec rebuilt from Gymnasium's registry, spaces,
    reference scores, seeds).

    Raises:
        DatasetFormatError: an invalid id, Dict/Tuple spaces, inconsistent episodes or files.
    """
    dataset = open_minari_dataset(dataset) if isinstance(dataset, str) else dataset
    origin = f"minari://{dataset.spec.dataset_id}"
    obs_space, act_space = dataset.observation_space, dataset.action_space
    for space in (obs_space, act_space):
        if not isinstance(space, gym.spaces.Box | gym.spaces.Discrete):
            raise DatasetFormatError(
                f"{origin}: {type(space).__name__} spaces are not supported (Box and Discrete are)"
            )
    from PIL import Image

    try:
        with _images_no_larger_than(obs_space):
            columns, seeds = _episodes(dataset, origin), _seeds(dataset)
    except DatasetFormatError:
        raise
    except Image.DecompressionBombError:
        raise DatasetFormatError(f"{origin}: an encoded image is larger than the observation "
                                 f"space {obs_space.shape}; refused before decoding") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AssertionError) as exc:
        raise DatasetFormatError(f"{origin}: unreadable episodes ({_one_line(exc)})") from None
    raw = dataset.storage.metadata
    metadata = _stored_metadata(raw.get(METADATA_KEY), origin)
    obs, final, actions, rewards, terminated, truncated, lengths = columns
    attempts = np.ones(len(lengths), dtype=np.int64)
    stored_attempts = (metadata or {}).get("episodes", {}).get("attempts")
    if isinstance(stored_attempts, list) and len(stored_attempts) == len(lengths) and all(
            isinstance(a, int) and not isinstance(a, bool) for a in stored_attempts):
        attempts = np.asarray(stored_attempts, dtype=np.int64)
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


@contextlib.contextmanager
def _images_no_larger_than(space: gym.Space) -> Iterator[None]:
    """Refuse, at ``Image.open``, any encoded image with more pixels than one of ``space``.

    Minari sizes its whole episode buffer after the first decoded JPEG, so a small file holding
    a huge image would otherwise allocate gigabytes.
    """
    from PIL import Image

    if not (isinstance(space, gym.spaces.Box) and len(space.shape) in (2, 3)):
        yield
        return
    saved = Image.MAX_IMAGE_PIXELS
    # Pillow raises DecompressionBombError above 2 * MAX_IMAGE_PIXELS (and warns above it).
    Image.MAX_IMAGE_PIXELS = max(1, (int(space.shape[0]) * int(space.shape[1]) + 1) // 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _episodes(dataset: Any, origin: str) -> tuple[list[Any], ...]:
    obs: list[np.ndarray] = []
    final: list[np.ndarray] = []
    actions: list[np.ndarray] = []
    rewards: list[np.ndarray] = []
    terminated: list[np.ndarray] = []
    truncated: list[np.ndarray] = []
    lengths: list[int] = []
    for episode in dataset.iterate_episodes():
        observations = np.asarray(episode.observations)
        steps = len(episode.rewards)
        if len(observations) != steps + 1:
            raise DatasetFormatError(
                f"{origin}: episode {episode.id} has {len(observations)} observations for "
                f"{steps} steps (expected steps + 1)"
            )
        if observations.shape[1:] != dataset.observation_space.shape:
            raise DatasetFormatError(
                f"{origin}: episode {episode.id} observations have shape {observations.shape[1:]}"
                f", the observation space says {dataset.observation_space.shape}"
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
    return obs, final, actions, rewards, terminated, truncated, lengths


def _seeds(dataset: Any) -> np.ndarray:
    episode_meta = list(dataset.storage.get_episode_metadata(dataset.episode_indices))
    return np.array([m.get("seed", -1) if m.get("seed") is not None else -1
                     for m in episode_meta], dtype=np.int64)


def _stored_metadata(stored: Any, origin: str) -> dict[str, Any] | None:
    """Our metadata carried under :data:`METADATA_KEY` (checked like a file), or None."""
    if not isinstance(stored, str):
        return None
    try:
        metadata = json.loads(stored)
    except (json.JSONDecodeError, RecursionError):
        raise DatasetFormatError(f"{origin}: {METADATA_KEY} is not valid JSON") from None
    checked = checked_metadata(metadata, f"{origin} ({METADATA_KEY})")
    if checked is None:
        raise DatasetFormatError(f"{origin}: {METADATA_KEY} is not our metadata object")
    return checked


def _rebuilt_spec(spec: Any) -> gym.envs.registration.EnvSpec | None:
    """The registry's spec for a file's (already parsed, never instantiated) env spec."""
    if spec is None or not is_registered(spec.id):
        return None
    try:
        return registry_env_spec(spec.id, spec.kwargs, spec.max_episode_steps,
                                 source="Minari env_spec", error=DatasetFormatError)
    except DatasetFormatError:
        return None


def _metadata_from_minari(dataset: Any, arrays: DatasetArrays, raw: dict[str, Any]
                          ) -> dict[str, Any]:
    spec = _rebuilt_spec(dataset.spec.env_spec)
    file_id = getattr(dataset.spec.env_spec, "id", None)
    env_id = spec.id if spec is not None else (
        file_id if isinstance(file_id, str) and ":" not in file_id else None)
    env = env_description(env_id, {} if spec is None else dict(spec.kwargs), spec,
                          dataset.observation_space, dataset.action_space)
    reference: dict[str, Any] = {"dataset_return_mean": json_number(arrays.returns.mean())}
    if finite_number(raw.get("ref_min_score")) is not None:
        reference["random_return_mean"] = json_number(raw["ref_min_score"])
        reference["random_return_source"] = "minari ref_min_score"
    if finite_number(raw.get("ref_max_score")) is not None:
        reference["expert_return_mean"] = json_number(raw["ref_max_score"])
    return build_metadata(
        arrays, env=env,
        expert={"kind": "minari", "id": str(raw.get("algorithm_name"))[:200]},
        collection={"minari_dataset_id": dataset.spec.dataset_id,
                    "minari_version": str(raw.get("minari_version"))[:40]},
        acceptance={},
        reference=reference,
        creation={"command": f"from_minari({dataset.spec.dataset_id!r})"},
    )


def minari_to_dataset(dataset: Any, directory: str | Path) -> Path:
    """Import a Minari dataset (id or ``MinariDataset``) as one of our dataset directories."""
    arrays, metadata = from_minari(dataset)
    return write_parquet(directory, arrays, metadata)
