"""Ray backend: long-lived actors play episode chunks; the driver stages what they return.

Each actor builds one :class:`EpisodePlayer` (it loads the expert once) and plays the chunks of
episode indices the driver sends it, two chunks in flight per actor so it never waits. Results
come back through the object store and the driver writes them to the staging folder atomically,
so the cluster needs no shared filesystem. A chunk whose actor dies is replayed on a replacement
actor; episodes depend only on their seeds, so nothing is lost, duplicated or changed.
Ray is imported only when this backend is used.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from imitation_datasets.collect.episode import write_atomic
from imitation_datasets.collect.player import EpisodePlayer, PlaySpec
from imitation_datasets.collect.tally import CollectionError, Tally
from imitation_datasets.collect.worker import WorkerSpec

ACTOR_PREFIX = "il-datasets-actor-"
NAMESPACE = "imitation_datasets"


class EpisodeActor:
    """Body of the Ray actor (wrapped with ``ray.remote`` at run time)."""

    def __init__(self, spec: PlaySpec) -> None:
        self.player = EpisodePlayer(spec)

    def play(self, indices: list[int]) -> list[tuple[str, dict[str, Any], bytes | None,
                                                     list[tuple[int, int, str]]]]:
        """Play ``indices``; return ``(kind, summary, episode bytes, errors)`` per index."""
        queue = list(reversed(indices))
        return [
            (r.kind, r.summary, None if r.episode is None else r.episode.to_bytes(), r.errors)
            for r in self.player.play(lambda: queue.pop() if queue else None)
        ]

    def pid(self) -> int:
        """Process id (tests use it to kill an actor)."""
        import os

        return os.getpid()


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError(
            "backend='ray' needs Ray: pip install 'imitation-datasets[ray]'"
        ) from None
    return ray


def play_ray(spec: WorkerSpec, todo: deque[int], actors: int, tally: Tally,
             address: str | None = None) -> None:
    """Play the indices in ``todo`` on ``actors`` Ray actors (one CPU each)."""
    ray = _ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 namespace=NAMESPACE)
    remote_actor = ray.remote(num_cpus=1, max_restarts=0)(EpisodeActor)
    play_spec = spec.play
    chunk = max(1, min(4 * spec.play.n_envs, -(-len(todo) // actors)))
    chunks = deque(sorted(todo)[i:i + chunk] for i in range(0, len(todo), chunk))
    todo.clear()
    handles: dict[int, Any] = {}
    in_flight: dict[Any, tuple[int, list[int]]] = {}

    def launch(slot: int) -> None:
        handles[slot] = remote_actor.options(name=f"{ACTOR_PREFIX}{slot}",
                                             namespace=NAMESPACE).remote(play_spec)

    def submit(slot: int) -> None:
        if chunks:
            indices = chunks.popleft()
            in_flight[handles[slot].play.remote(indices)] = (slot, indices)

    try:
        for slot in range(actors):
            launch(slot)
            submit(slot)
            submit(slot)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            for ref in ready:
                slot, indices = in_flight.pop(ref)
                try:
                    results = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    if exc.actor_init_failed:
                        raise CollectionError(f"Ray actor {slot} could not start:\n{exc}") from None
                    tally.restarts += 1
                    if tally.restarts > 3 * actors:
                        raise CollectionError(
                            f"Ray actors keep dying; {tally.accepted} episodes are staged in "
                            f"{spec.staging.path}"
                        ) from None
                    chunks.appendleft(indices)
                    lost = [r for r, (s, _) in in_flight.items() if s == slot]
                    for other in lost:  # the dead actor's second chunk fails too
                        chunks.appendleft(in_flight.pop(other)[1])
                    ray.kill(handles[slot], no_restart=True)
                    launch(slot)
                    submit(slot)
                    submit(slot)
                    continue
                except ray.exceptions.RayTaskError as exc:
                    raise CollectionError(f"Ray actor {slot} failed:\n{exc}") from None
                for kind, info, data, errors in results:
                    for attempt, seed, text in errors:
                        spec.staging.log_error(info["index"], attempt, seed, text)
                    if data is not None:
                        write_atomic(spec.staging.episode_path(info["index"]), data)
                    tally.record(kind, info)
                submit(slot)
    finally:
        for handle in handles.values():
            ray.kill(handle, no_restart=True)
        if started_here:
            ray.shutdown()
