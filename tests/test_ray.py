"""Ray backend: same bytes as the local backend, survives a killed actor (local Ray, 2 CPUs)."""

import contextlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import digests
from ray_policies import policy

from imitation_datasets.collect.ray_backend import (
    ACTOR_PREFIX,
    NAMESPACE,
    RayAddressError,
    check_address,
)
from imitation_datasets.collect.staging import EPISODE_PATTERN, LOG_PATTERN
from imitation_datasets.collect.tally import CollectionError
from imitation_datasets.controller import Controller
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import baseline_collate, baseline_enjoy, random_enjoy

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace=NAMESPACE,
             runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}})
    yield
    ray.shutdown()


def run(tmp_path, name, backend, episodes=40, slow=False, enjoy=baseline_enjoy, stats=None,
        **kwargs):
    controller = Controller(enjoy, baseline_collate, episodes=episodes, workers=2,
                            path=tmp_path, expert=policy(slow), progress=False, backend=backend,
                            **kwargs)
    out = controller.start({"game": name, "mode": "all"})
    if stats is not None:
        stats.update(controller.last_run)
    return out


def test_ray_and_local_give_identical_bytes(tmp_path):
    assert digests(run(tmp_path, "ray", "ray")) == digests(run(tmp_path, "local", "local"))


def test_ray_actors_write_their_own_shards(tmp_path):
    """The episodes go from each actor to its own staging log, never through the driver."""
    from ray_policies import balance

    expert = CallablePolicy(balance, "CartPole-v1", name="balance-ray", identity="balance-v1")
    controller = Controller(baseline_enjoy, baseline_collate, episodes=24, workers=2,
                            path=tmp_path, expert=expert, progress=False, backend="ray")
    controller.start({"game": "shards", "mode": "play"})
    staged = [p.name for p in (tmp_path / "shards").glob(".staging-*/*")]
    logs = [name for name in staged if LOG_PATTERN.match(name)]
    assert logs and all(name.startswith("episodes-ray") for name in logs), staged
    assert not any(EPISODE_PATTERN.match(name) for name in staged), staged
    collated = controller.start({"game": "shards", "mode": "collate"})
    local = Controller(baseline_enjoy, baseline_collate, episodes=24, workers=2, path=tmp_path,
                       expert=expert, progress=False, backend="local")
    assert digests(collated) == digests(local.start({"game": "local", "mode": "all"}))


def test_random_dataset_on_ray_matches_local(tmp_path):
    a = run(tmp_path, "rr", "ray", enjoy=random_enjoy)
    b = run(tmp_path, "rl", "local", enjoy=random_enjoy)
    assert digests(a) == digests(b)


def test_killing_an_actor_mid_collection_loses_nothing(tmp_path):
    reference = digests(run(tmp_path, "ref", "local", episodes=48))
    out = tmp_path / "killed"
    errors, stats = [], {}

    def collect():
        try:
            run(tmp_path, "killed", "ray", episodes=48, slow=True, envs_per_worker=4,
                stats=stats)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=collect)
    thread.start()
    deadline = time.monotonic() + 120
    while not any(EPISODE_PATTERN.match(p.name) or (LOG_PATTERN.match(p.name) and
                                                     p.stat().st_size > 0)
                  for p in out.glob(".staging-*/*")):
        assert time.monotonic() < deadline and thread.is_alive(), errors
        time.sleep(0.05)
    ray.kill(ray.get_actor(f"{ACTOR_PREFIX}0", namespace=NAMESPACE), no_restart=True)
    thread.join(timeout=300)
    assert not errors, errors
    assert stats["restarts"] == 1
    assert digests(out) == reference


def test_custom_enjoy_is_refused_on_ray():
    with pytest.raises(ValueError, match="local backend"):
        Controller(lambda expert, path, context: True, baseline_collate, episodes=1,
                   backend="ray")


def test_benchmark_sweep_on_ray_matches_the_local_runner(tmp_path):
    from imitation_datasets.benchmark.runner import run_benchmark

    data = tmp_path / "data"
    local = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "local", data, workers=1,
                          progress=False)
    remote = run_benchmark(["bc"], ["cartpole"], 2, tmp_path / "ray", data, backend="ray",
                           progress=False)
    keys = ("seed", "test_returns", "aer", "performance", "accuracy")
    assert [{k: c[k] for k in keys} for c in remote] == [{k: c[k] for k in keys} for c in local]


def dead_address() -> str:
    with socket.socket() as probe:  # a port nobody listens on once this socket is closed
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def test_dead_cluster_address_fails_fast_with_one_line(tmp_path):
    address = dead_address()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "imitation_datasets", "collect", "cartpole", "--episodes", "2",
         "--backend", "ray", "--address", address, "--out", str(tmp_path / "x"), "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 20
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and f"Ray address {address}: cannot connect" in \
        result.stderr


def serve(answer: bytes | None) -> tuple[str, socket.socket]:
    """A local TCP server that stays silent (``None``) or sends ``answer`` to each client."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def loop():
        with contextlib.suppress(OSError):
            while True:
                client, _ = server.accept()
                if answer is not None:
                    client.sendall(answer)

    threading.Thread(target=loop, daemon=True).start()
    return f"127.0.0.1:{server.getsockname()[1]}", server


@pytest.mark.parametrize("answer, reason", [(None, "timed out"),
                                            (b"HTTP/1.1 400 Bad Request\r\n\r\n", "not as a Ray")])
def test_an_address_that_is_not_ray_is_refused_within_the_connect_timeout(answer, reason):
    address, server = serve(answer)
    started = time.monotonic()
    with server, pytest.raises(RayAddressError, match=reason):
        check_address(address, timeout=1.0)
    assert time.monotonic() - started < 5


def test_a_live_ray_address_passes_the_check():
    check_address(ray.get_runtime_context().gcs_address)


def test_a_hanging_actor_stops_the_run_with_a_one_line_message(tmp_path):
    from hanging_env import STUCK_ID
    from hanging_env import policy as toy

    controller = Controller(baseline_enjoy, baseline_collate, episodes=4, workers=1,
                            path=tmp_path, expert=CallablePolicy(toy, STUCK_ID, name="toy"),
                            progress=False, backend="ray", envs_per_worker=1, step_timeout=5)
    started = time.monotonic()
    with pytest.raises(CollectionError, match=f"Ray actor 0 made no progress for 5 s on "
                                              f"episodes 0-3 of {STUCK_ID}") as stopped:
        controller.start({"game": "stuck"})
    assert time.monotonic() - started < 30 and "\n" not in str(stopped.value)
