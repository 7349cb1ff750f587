"""Ray actors stage their own episodes when they see the staging folder (no Ray needed here).

The actor class is plain Python; Ray only wraps it. ``tests/test_ray.py`` runs it on Ray.
"""

from __future__ import annotations

from ray_policies import policy

from imitation_datasets.collect.player import PlaySpec
from imitation_datasets.collect.ray_backend import EpisodeActor, sees_staging
from imitation_datasets.collect.staging import Staging
from imitation_datasets.core.episode import Episode


def play_spec() -> PlaySpec:
    return PlaySpec(env_id="CartPole-v1", env_kwargs={}, policy=policy(), random_actions=False,
                    dataset_seed=3, threshold=0.0, max_attempts=2, n_envs=2)


def test_an_actor_that_sees_the_staging_folder_appends_its_episodes(tmp_path):
    staging = Staging(tmp_path, "f" * 64)
    staging.create({"run": "test"})
    run_file = (staging.path / "run.json").read_bytes()
    writer = EpisodeActor(play_spec(), staging, run_file, "ray0")
    assert writer.writes_shards()
    results = writer.play([0, 1, 2])
    assert [kind for kind, *_ in results] == ["done"] * 3
    assert all(data is None for _, _, data, _ in results)  # nothing sent back to the driver
    returned = {info["index"]: data for _, info, data, _ in EpisodeActor(play_spec()).play(
        [0, 1, 2])}
    staged = staging.episode_locations(10)
    assert sorted(staged) == [0, 1, 2]
    for index, location in staged.items():
        assert location.path.name.startswith("episodes-ray0-")
        assert location.read() == returned[index]  # the same bytes the driver would stage
        assert Episode.from_bytes(location.read()).index == index


def test_an_actor_that_does_not_see_it_returns_its_episodes(tmp_path):
    staging = Staging(tmp_path, "f" * 64)
    staging.create({"run": "test"})
    assert not sees_staging(staging, b'{"another": "run"}')
    assert not sees_staging(Staging(tmp_path / "elsewhere", "f" * 64), b"{}")
    actor = EpisodeActor(play_spec(), staging, b'{"another": "run"}', "ray0")
    assert not actor.writes_shards()
    results = actor.play([0, 1])
    assert all(data is not None for _, _, data, _ in results)
    assert staging.episode_locations(10) == {}
