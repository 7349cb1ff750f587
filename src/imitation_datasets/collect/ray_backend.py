"""Ray backend: long-lived actors play episode chunks and stage them.

Each actor builds one :class:`EpisodePlayer` (it loads the expert once) and plays the chunks of
episode indices the driver sends it, two chunks in flight per actor so it never waits.

Where the staging folder is shared (a local Ray, or a cluster whose nodes mount the dataset's
path), each actor appends its accepted episodes to its own staging log
(``episodes-ray<slot>-<pid>.log``, the local workers' crash-safe record format) as they finish,
and returns only their summaries: episode data never passes through the driver or the object
store, so no process ever holds more than the episodes an actor is playing. An actor sees the
folder when the ``run.json`` the driver wrote there reads back with the same bytes
(:func:`sees_staging`); an actor on a node that does not (no shared filesystem) returns its
episodes to the driver, which stages them one file each, atomically (``episode_<index>.ep``).
Either way the collated dataset has the same bytes. A chunk whose actor dies is replayed on a
replacement actor; episodes depend only on their seeds, so nothing is lost, duplicated or
changed. An actor that returns nothing for ``step_timeout`` seconds is hung (replaying would hang
again): it is killed and the run stops, keeping what was staged. A cluster ``address`` is
checked with a plain TCP connection (``CONNECT_TIMEOUT``) before Ray is asked to join it, so a
dead address fails in seconds instead of hanging in Ray's retries. Ray is imported only when this
backend is used.
"""

from __future__ import annotations

import os
import socket
import time
from collections import deque
from typing import Any

from imitation_datasets.collect.player import EpisodePlayer, PlaySpec
from imitation_datasets.collect.staging import Staging
from imitation_datasets.collect.tally import CollectionError, Tally
from imitation_datasets.collect.worker import (
    WorkerSpec,
    forgive_stall,
    hung_message,
    staging_writes,
)
from imitation_datasets.core.atomic import atomic_write_bytes
from imitation_datasets.core.errors import ImitationDatasetsError
from imitation_datasets.core.extras import require_extra

ACTOR_PREFIX = "il-datasets-actor-"
NAMESPACE = "imitation_datasets"
STALL = 5.0
"""A longer gap between two turns of the driver's loop (which waits at most 1 s, then stages a
chunk) stopped the driver; it is not charged to the actors' ``step_timeout``."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a TCP connection to a Ray cluster address."""
DEFAULT_PORTS = {"ray://": 10001, "": 6379}
"""Ports Ray uses when an address gives none: the client server, and the GCS of ``ray start``."""


class RayAddressError(ImitationDatasetsError, ValueError):
    """The Ray cluster address cannot be reached."""


def sees_staging(staging: Staging, run_file: bytes | None) -> bool:
    """Whether this process sees the driver's staging folder (its ``run.json`` reads the same)."""
    if run_file is None:
        return False
    try:
        return (staging.path / "run.json").read_bytes() == run_file
    except OSError:
        return False


class EpisodeActor:
    """Body of the Ray actor (wrapped with ``ray.remote`` at run time).

    Args:
        spec: what to play.
        staging: the run's staging folder, written to by the actor when it sees it.
        run_file: the bytes of the driver's ``run.json`` (``None``: always return episodes).
        tag: names the actor's log (``episodes-<tag>-<pid>.log``).
    """

    def __init__(self, spec: PlaySpec, staging: Staging | None = None,
                 run_file: bytes | None = None, tag: str = "ray") -> None:
        self.player = EpisodePlayer(spec)
        self.staging = staging
        self.log = staging.open_log(tag) \
            if staging is not None and sees_staging(staging, run_file) else None

    def writes_shards(self) -> bool:
        """Whether this actor stages its episodes itself (else it returns them)."""
        return self.log is not None

    def play(self, indices: list[int]) -> list[tuple[str, dict[str, Any], bytes | None,
                                                     list[tuple[int, int, str]]]]:
        """Play ``indices``; return ``(kind, summary, episode bytes, errors)`` per index.

        An actor that stages its episodes appends each to its log when it finishes (a crash
        loses at most the one being written, replayed later) and returns no bytes.
        """
        queue = list(reversed(indices))
        out = []
        for result in self.player.play(lambda: queue.pop() if queue else None):
            data = None if result.episode is None else result.episode.to_bytes()
            if data is not None and self.log is not None and self.staging is not None:
                with staging_writes(self.staging.path):
                    Staging.append(self.log, result.summary["index"], data)
                data = None
            out.append((result.kind, result.summary, data, result.errors))
        return out

    def pid(self) -> int:
        """Process id (tests use it to kill an actor)."""
        return os.getpid()


def _ray() -> Any:
    require_extra("ray", "backend='ray'")  # one line (a MissingExtraError, an ImportError)
    import ray

    return ray


HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
"""The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS and client
server) answers with a SETTINGS frame (type 4) of its own."""


def check_address(address: str | None, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`RayAddressError` unless a gRPC server answers at ``address`` in time.

    ``address`` is ``HOST[:PORT]`` or ``ray://HOST[:PORT]``; ``None``, ``auto`` and ``local`` are
    resolved by Ray itself (it fails fast when there is nothing to join). Ray's own connection
    retries take minutes on a dead or foreign address; this check takes at most ``2 * timeout``.
    """
    if address is None or address in ("auto", "local"):
        return
    scheme = "ray://" if address.startswith("ray://") else ""
    host, _, port = address[len(scheme):].rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        host, port = address[len(scheme):].rstrip("/"), str(DEFAULT_PORTS[scheme])
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            conn.sendall(HTTP2_PREFACE)
            answer = conn.recv(9)
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise RayAddressError(_unreachable(address, f"{host}:{port}", reason, timeout)) from None
    if len(answer) < 4 or answer[3] != 4:  # not an HTTP/2 SETTINGS frame
        raise RayAddressError(_unreachable(address, f"{host}:{port}",
                                           "it answers, but not as a Ray (gRPC) server", timeout))


def _unreachable(address: str, target: str, reason: str, timeout: float) -> str:
    return (f"Ray address {address}: cannot connect to {target} ({reason}; waited at most "
            f"{timeout:g} s); start the cluster there (ray start --head) or fix --address")


def connect(address: str | None) -> bool:
    """Join ``address`` (or start a local Ray) unless Ray is already initialised.

    Returns:
        Whether Ray was initialised here (the caller shuts it down then).

    Raises:
        RayAddressError: ``address`` does not accept connections.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    check_address(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 namespace=NAMESPACE)
    except ConnectionError as exc:  # e.g. address="auto" with no cluster running
        raise RayAddressError(f"Ray address {address}: {exc}") from None
    return True


def play_ray(spec: WorkerSpec, todo: deque[int], actors: int, tally: Tally,
             address: str | None = None, *, actors_write: bool = True) -> None:
    """Play the indices in ``todo`` on ``actors`` Ray actors (one CPU each).

    ``actors_write``: actors that see the staging folder append their episodes to it
    themselves (``False``: every episode comes back to the driver, which stages it).
    """
    ray = _ray()
    started_here = connect(address)
    remote_actor = ray.remote(num_cpus=1, max_restarts=0)(EpisodeActor)
    play_spec = spec.play
    run_path = spec.staging.path / "run.json"
    run_file = run_path.read_bytes() if actors_write and run_path.exists() else None
    chunk = max(1, min(4 * spec.play.n_envs, -(-len(todo) // actors)))
    chunks = deque(sorted(todo)[i:i + chunk] for i in range(0, len(todo), chunk))
    todo.clear()
    handles: dict[int, Any] = {}
    in_flight: dict[Any, tuple[int, list[int]]] = {}
    last_seen: dict[int, float] = {}

    def launch(slot: int) -> None:
        handles[slot] = remote_actor.options(name=f"{ACTOR_PREFIX}{slot}",
                                             namespace=NAMESPACE).remote(
            play_spec, spec.staging, run_file, f"ray{slot}")
        last_seen[slot] = time.monotonic()

    def stop_hung() -> None:
        if spec.step_timeout is None:
            return
        oldest: dict[int, list[int]] = {}
        for slot, indices in in_flight.values():
            oldest.setdefault(slot, indices)  # the chunk the actor is playing
        for slot, indices in oldest.items():
            if time.monotonic() - last_seen[slot] > spec.step_timeout:
                ray.kill(handles[slot], no_restart=True)
                raise CollectionError(hung_message(
                    f"Ray actor {slot}", spec.step_timeout, play_spec.env_id, indices,
                    tally.accepted, spec.staging.path))

    def submit(slot: int) -> None:
        if chunks:
            indices = chunks.popleft()
            in_flight[handles[slot].play.remote(indices)] = (slot, indices)

    try:
        for slot in range(actors):
            launch(slot)
            submit(slot)
            submit(slot)
        tick = time.monotonic()
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
            tick = forgive_stall(last_seen, tick, STALL)
            stop_hung()
            for ref in ready:
                slot, indices = in_flight.pop(ref)
                last_seen[slot] = time.monotonic()
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
                        atomic_write_bytes(spec.staging.episode_path(info["index"]), data,
                                           durable=False)  # replayed when lost
                    tally.record(kind, info)
                submit(slot)
    finally:
        for handle in handles.values():
            ray.kill(handle, no_restart=True)
        if started_here:
            ray.shutdown()
