"""Collate: turn a run's staged episodes into the dataset folder, with its metadata.

The built-in collate (:class:`~imitation_datasets.collect.functions.DatasetCollate`) gets every
episode in index order and the metadata (environment, expert provenance, collection rule,
acceptance statistics, reference returns, the command); the folder is replaced whole
(:meth:`~imitation_datasets.collect.folder.DatasetFolder.replace`). A user ``collate(path, data)``
gets the original IL-Datasets call: a folder and the list of episode files (with a built-in
enjoy, the ``<index>.npz`` files 1.0.0's enjoy wrote, in the dataset folder).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imitation_datasets.collect.folder import DatasetFolder, OutFolderError
from imitation_datasets.collect.functions import (
    DatasetCollate,
    episode_columns,
    episode_layout,
    write_npz,
)
from imitation_datasets.collect.noise import noise_metadata, reference_scores
from imitation_datasets.collect.pixels import pixel_space
from imitation_datasets.collect.run_description import RunDescription
from imitation_datasets.collect.streamed import StagedEpisodes
from imitation_datasets.collect.tally import CollectionError
from imitation_datasets.collect.worker import WorkerSpec
from imitation_datasets.core.episode import Episode, EpisodeFileError
from imitation_datasets.core.evaluation import evaluate_available
from imitation_datasets.core.rollout import make_env
from imitation_datasets.core.seeding import expert_eval_seeds
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import build_metadata
from imitation_datasets.data.schema import env_description as describe_env
from imitation_datasets.data.schema import json_number

RANDOM_REFERENCE_EPISODES = 100
"""Episodes of the random-policy reference return (when the expert's card has none)."""
RANDOM_REFERENCE_MAX_FAILURES = 100
"""Seeds the random-policy reference may skip because the env raised for them."""
SEED_RULE = ("imitation_datasets.core.seeding.episode_seed(dataset_seed, episode, attempt) = "
             "SeedSequence(dataset_seed, spawn_key=(episode, attempt)).generate_state(1, "
             "uint32)[0]")
"""The seed rule, as recorded in the metadata."""


def collate_run(spec: WorkerSpec, folder: DatasetFolder, description: RunDescription,
                episodes: int, collate: Any, command: str) -> None:
    """Collate the ``episodes`` staged episodes of the run into ``folder`` with ``collate``.

    Raises:
        CollectionError: an episode is not staged, a staged file is unreadable, or a user
            collate returned ``False``.
        OutFolderError: the dataset cannot be written (the staged episodes are kept).
    """
    staging = spec.staging
    # built-in enjoy: the staged episodes are read once, for the check and for collate; a
    # mapped collate streams them from where they are staged instead
    streamed = (spec.user_enjoy is None and isinstance(collate, DatasetCollate)
                and collate.mapped)
    staged: Any = None if spec.user_enjoy is not None else (
        staging.episode_locations(episodes) if streamed else staging.episode_bytes(episodes))
    done = staging.marked_episodes(episodes) if staged is None else set(staged)
    missing = [i for i in range(episodes) if i not in done]
    if missing:
        raise CollectionError(
            f"cannot collate: {len(missing)} of {episodes} episodes are not staged "
            f"(first missing: {missing[0]}); run mode 'play' or 'all' with the same arguments"
            + ("" if staging.resumable else
               " (the policy has no identity, so no earlier run's episodes are used: give it "
               "one, or use mode 'all')")
        )
    if staged is None or not isinstance(collate, DatasetCollate):
        try:
            _user_collate(spec, folder.path, episodes, collate, staged, description.run["enjoy"])
        except EpisodeFileError as exc:
            raise CollectionError(
                f"{exc}; delete the staging folder and rerun to replay the episodes"
            ) from None
        return
    try:
        records: Sequence[Episode] = (
            StagedEpisodes(staged, staging.path, episodes) if streamed else
            [Episode.from_bytes(staged[i], f"{staging.path} (episode {i})")
             for i in range(episodes)])
    except (EpisodeFileError, OSError) as exc:
        raise CollectionError(
            f"{exc}; delete the staging folder and rerun to replay the episodes"
        ) from None

    def metadata(arrays: DatasetArrays) -> dict[str, Any]:
        return _metadata(spec, description, records, arrays, command)

    try:
        folder.replace(lambda build: collate.write(build, records, metadata),
                       drop_staging=staging.path.name)
    except OSError as exc:
        raise OutFolderError(
            f"cannot write the dataset {folder.path} ({exc.filename or folder.path}: "
            f"{exc.strerror or exc}); nothing was changed and the staged episodes are kept "
            f"in {staging.path}: fix the cause and rerun the same command"
        ) from None


def _user_collate(spec: WorkerSpec, out_dir: Path, episodes: int, collate: Any,
                  staged: dict[int, bytes] | None, enjoy_name: str) -> None:
    staging = spec.staging
    if staged is not None:
        # built-in enjoy: a user collate reads the files 1.0.0's enjoy wrote, <index>.npz in
        # the dataset folder (the staged episodes stay where they are until a built-in collate)
        layout = episode_layout(enjoy_name)
        files = []
        for index in range(episodes):
            episode = Episode.from_bytes(staged[index], f"{staging.path} (episode {index})")
            write_npz(out_dir / f"{index}.npz", episode_columns(episode, layout))
            files.append(f"{index}.npz")
    else:
        files = staging.user_files(range(episodes))
    path = str(out_dir) + os.sep
    if collate(path=path, data=files) is False:
        raise CollectionError(f"collate function {collate!r} returned False")


def _metadata(spec: WorkerSpec, description: RunDescription, episodes: Sequence[Episode],
              arrays: DatasetArrays, command: str) -> dict[str, Any]:
    play = spec.play
    env = env_description(play.env_id, play.env_kwargs)
    if play.pixels is not None:  # the observations are the frames; the expert saw the state
        env = {**env, "observation_space": pixel_space(play.pixels),
               "state_space": env["observation_space"]}
    reference = _reference(description.provenance, play.env_id, play.env_kwargs, arrays)
    return build_metadata(
        arrays,
        env=env,
        expert=description.provenance,
        collection={
            "dataset_seed": play.dataset_seed,
            "episodes": len(episodes),
            "threshold": json_number(play.threshold),
            "max_attempts": play.max_attempts,
            "enjoy": description.run["enjoy"],
            "random_actions": play.random_actions,
            "seed_rule": SEED_RULE,
            "fingerprint": spec.staging.fingerprint,
            **({} if play.pixels is None else {"pixels": play.pixels.to_json()}),
            **({} if play.noise is None else
               {"noise": noise_metadata(description.run["noise"], arrays.seeds)}),
        },
        acceptance=_acceptance(episodes),
        reference=reference if play.noise is None and "level" not in description.provenance
        else {**reference, **reference_scores(reference)},
        creation={"command": command},
    )


def env_description(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The metadata's ``env`` entry of the env ``env_id`` made with ``env_kwargs``."""
    env = make_env(env_id, env_kwargs)
    try:
        return describe_env(env_id, env_kwargs, env.spec, env.observation_space,
                            env.action_space, getattr(env, "original_observation_space", None))
    finally:
        env.close()


def _acceptance(episodes: Sequence[Episode]) -> dict[str, Any]:
    tries = [(e.attempt, e.rejected_returns) for e in episodes]  # one pass: they may stream
    rejected = [r for _, returns in tries for r in returns if not math.isnan(r)]
    errors = sum(1 for _, returns in tries for r in returns if math.isnan(r))
    attempts = sum(attempt + 1 for attempt, _ in tries)
    return {
        "attempts": attempts,
        "accepted": len(episodes),
        "rejected": len(rejected),
        "errors": errors,
        "acceptance_rate": len(episodes) / attempts,
        "rejected_returns": [json_number(r) for r in rejected],
    }


def _reference(provenance: dict[str, Any], env_id: str, env_kwargs: dict[str, Any],
               arrays: DatasetArrays) -> dict[str, Any]:
    reference: dict[str, Any] = {"dataset_return_mean": json_number(arrays.returns.mean())}
    if "random_return_mean" in provenance:
        reference["random_return_mean"] = provenance["random_return_mean"]
        reference["random_return_source"] = (
            f"expert card: random policy on seeds {provenance['evaluation_seed_start']}.."
            f"{provenance['evaluation_seed_start'] + provenance['evaluation_episodes'] - 1}"
        )
        # a lower-proficiency expert's datasets are scored against its curated expert (D4RL)
        reference["expert_return_mean"] = provenance.get("expert_return_mean",
                                                         provenance["return_mean"])
    else:
        reference.update(_random_reference(env_id, env_kwargs))
    return reference


def _random_reference(env_id: str, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Mean return of the random policy on the evaluation seeds, skipping seeds that raise.

    Deterministic: the same seeds fail every time, so the same seeds are used. When too many
    fail, the reference is recorded as unavailable, with the reason, and the dataset is kept.
    """
    seeds = expert_eval_seeds(RANDOM_REFERENCE_EPISODES + RANDOM_REFERENCE_MAX_FAILURES)
    try:
        returns, used, failed = evaluate_available(
            None, env_id, seeds, RANDOM_REFERENCE_EPISODES, env_kwargs,
            max_failures=RANDOM_REFERENCE_MAX_FAILURES)
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1]
        return {"random_return_mean": None,
                "random_return_source": f"unavailable: random-policy episodes raised on too many "
                                        f"of the seeds {seeds[0]}..{seeds[-1]} ({last})"}
    source = f"random policy on seeds {used[0]}..{used[-1]}"
    if failed:
        shown = ", ".join(map(str, failed[:10])) + (", ..." if len(failed) > 10 else "")
        source += f", skipping {len(failed)} seeds whose episode raised ({shown})"
    return {"random_return_mean": json_number(np.mean(returns)), "random_return_source": source}
