import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
from conftest import balance, digests, heuristic_policy

from imitation_datasets.collect.options import CollectOptions
from imitation_datasets.collect.run_description import default_envs_per_worker
from imitation_datasets.collect.staging import Staging
from imitation_datasets.controller import CollectionError, Controller
from imitation_datasets.core.config import from_mapping
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.seeding import episode_seed
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import baseline_collate, baseline_enjoy, random_enjoy

SCRIPTS = Path(__file__).parent / "scripts"


def collect(tmp_path, name, episodes=24, threads=1, policy=None, **kwargs):
    controller = Controller(baseline_enjoy, baseline_collate, episodes=episodes, threads=threads,
                            path=tmp_path, expert=policy or heuristic_policy(), progress=False,
                            **kwargs)
    return controller.start({"game": name, "mode": "all"})


def test_same_seed_gives_identical_bytes_for_1_2_and_8_workers(tmp_path):
    one = digests(collect(tmp_path, "w1", threads=1))
    assert digests(collect(tmp_path, "w2", threads=2)) == one
    assert digests(collect(tmp_path, "w8", threads=8, envs_per_worker=3)) == one


def test_other_seed_gives_other_data(tmp_path):
    a = collect(tmp_path, "a", episodes=4, seed=0)
    b = collect(tmp_path, "b", episodes=4, seed=1)
    assert digests(a)["steps.parquet"] != digests(b)["steps.parquet"]


def test_episode_seeds_follow_the_documented_rule(tmp_path):
    arrays, meta = read_parquet(collect(tmp_path, "s", episodes=6, seed=7))
    expected = [episode_seed(7, i, 0) for i in range(6)]
    assert arrays.seeds.tolist() == expected == meta["episodes"]["seed"]


def test_metadata_matches_the_data(tmp_path):
    arrays, meta = read_parquet(collect(tmp_path, "m", episodes=10))
    np.testing.assert_array_equal(meta["episodes"]["return"], arrays.returns)
    assert meta["episodes"]["length"] == arrays.lengths.tolist()
    assert meta["total_steps"] == arrays.n_steps == int(arrays.lengths.sum())
    assert meta["returns"]["mean"] == pytest.approx(arrays.returns.mean())
    assert meta["env"]["id"] == "CartPole-v1"
    assert meta["env"]["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
    assert meta["acceptance"]["accepted"] == 10
    assert meta["reference"]["random_return_mean"] < 50
    # terminated/truncated sit only on each episode's last step, and are never both set
    last = arrays.starts + arrays.lengths - 1
    flags = arrays.terminated | arrays.truncated
    assert flags[last].all() and flags.sum() == arrays.n_episodes
    assert not (arrays.terminated & arrays.truncated).any()


def test_final_observation_continues_the_episode(tmp_path):
    """Replaying an episode's actions from its seed reproduces obs and the final obs."""
    import gymnasium as gym

    arrays, _ = read_parquet(collect(tmp_path, "f", episodes=3, policy=CallablePolicy(
        lambda o: np.zeros(len(o), np.int64), "CartPole-v1", name="left")))
    env = gym.make("CartPole-v1")
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths)):
        obs, _ = env.reset(seed=int(arrays.seeds[e]))
        for t in range(length):
            np.testing.assert_array_equal(obs, arrays.obs[start + t])
            obs, *_ = env.step(int(arrays.actions[start + t]))
        np.testing.assert_array_equal(obs, arrays.final_obs[e])


def test_rejected_attempts_retry_with_the_next_seed_and_are_recorded(tmp_path):
    # watching only the pole angle lasts 25-50 steps: a threshold at the median rejects half
    policy = CallablePolicy(lambda o: (o[:, 2] > 0).astype(np.int64), "CartPole-v1",
                            threshold=37, name="angle-only")
    arrays, meta = read_parquet(collect(tmp_path, "r", episodes=12, threads=2, policy=policy,
                                        max_attempts=30))
    acc = meta["acceptance"]
    assert acc["rejected"] > 0 and acc["attempts"] == 12 + acc["rejected"]
    assert all(r < 37 for r in acc["rejected_returns"])
    assert (arrays.returns >= 37).all()
    for i, attempts in enumerate(arrays.attempts):
        assert arrays.seeds[i] == episode_seed(0, i, int(attempts) - 1)


def test_threshold_never_reached_stops_with_a_clear_message_and_keeps_staged(tmp_path):
    with pytest.raises(CollectionError, match=r"did not reach the threshold 600 in 3 attempts"):
        collect(tmp_path, "t", episodes=5, threshold=600, max_attempts=3)
    assert not (tmp_path / "t" / "metadata.json").exists()
    assert list((tmp_path / "t").glob(".staging-*/run.json"))


def test_enjoy_exceptions_are_logged_and_retried(tmp_path):
    calls = {"n": 0}

    def sometimes_broken(obs):
        if obs[0, 1] > 0.04:  # depends only on the state: deterministic
            raise RuntimeError("sensor glitch")
        return balance(obs)

    policy = CallablePolicy(sometimes_broken, "CartPole-v1", name="glitchy")
    del calls
    _, meta = read_parquet(collect(tmp_path, "e", episodes=8, policy=policy, envs_per_worker=1,
                                   max_attempts=50))
    assert meta["acceptance"]["errors"] > 0
    # the log lived in the staging folder, which is removed after a successful collate;
    # a failing run keeps it:
    def always_broken(obs):
        raise RuntimeError("sensor glitch")

    with pytest.raises(CollectionError, match="errors.log"):
        collect(tmp_path, "e2", episodes=2, max_attempts=2,
                policy=CallablePolicy(always_broken, "CartPole-v1", name="broken"))
    log = next((tmp_path / "e2").glob(".staging-*/errors.log")).read_text()
    assert "RuntimeError: sensor glitch" in log and "Traceback" in log


def test_user_enjoy_with_original_signature(tmp_path):
    import gymnasium as gym

    def my_enjoy(expert, path, context):
        env = gym.make("CartPole-v1")
        obs, _ = env.reset(seed=context.seed)
        states, done, total = [], False, 0.0
        while not done:
            states.append(obs)
            obs, reward, terminated, truncated, _ = env.step(int(expert.predict(obs)[0]))
            total += reward
            done = terminated or truncated
        context.episode_return = total
        if total < 100:
            return False
        np.savez(f"{path}{context.index}", states=np.array(states))
        context.add_log(f"Accumulated reward {total}")
        return True

    seen = {}

    def my_collate(path, data):
        seen["files"] = data
        return True

    (tmp_path / "u").mkdir()
    (tmp_path / "u" / "99.npz").write_bytes(b"stale file from another run")
    Controller(my_enjoy, my_collate, episodes=5, threads=2, path=tmp_path,
               expert=heuristic_policy(), progress=False).start(
        Namespace(game="u", mode="all"))
    assert seen["files"] == [f"{i}.npz" for i in range(5)]


def identified_policy() -> CallablePolicy:
    """The heuristic with an identity: runs with it resume and find their dataset complete."""
    return CallablePolicy(balance, "CartPole-v1", name="balance-heuristic",
                          identity="balance-heuristic-v1")


def test_play_then_collate_modes_and_rerun_is_a_no_op(tmp_path):
    controller = Controller(baseline_enjoy, baseline_collate, episodes=6, path=tmp_path,
                            expert=identified_policy(), progress=False)
    with pytest.raises(CollectionError, match="not staged"):
        controller.start({"game": "p", "mode": "collate"})
    controller.start({"game": "p", "mode": "play"})
    assert not (tmp_path / "p" / "metadata.json").exists()
    controller.start({"game": "p", "mode": "collate"})
    before = digests(tmp_path / "p")
    controller.start({"game": "p", "mode": "all"})
    assert digests(tmp_path / "p") == before
    assert not list((tmp_path / "p").glob(".staging-*"))
    # more episodes with the same arguments: the first six are the same episodes
    small, _ = read_parquet(tmp_path / "p")
    Controller(baseline_enjoy, baseline_collate, episodes=8, path=tmp_path,
               expert=identified_policy(), progress=False).start({"game": "p", "mode": "all"})
    large, _ = read_parquet(tmp_path / "p")
    assert large.n_episodes == 8 and large.select(range(6)).equals(small)


def test_random_enjoy_records_seeded_random_actions(tmp_path):
    policy = CallablePolicy(lambda o: None, "CartPole-v1", name="random")
    controller = Controller(random_enjoy, baseline_collate, episodes=30, threads=2,
                            path=tmp_path, expert=policy, progress=False)
    arrays, meta = read_parquet(controller.start({"game": "rnd", "mode": "all"}))
    assert meta["expert"] == {"kind": "random"}
    assert 10 < arrays.returns.mean() < 40
    again = Controller(random_enjoy, baseline_collate, episodes=30, threads=1,
                       path=tmp_path, expert=policy, progress=False).start(
        {"game": "rnd2", "mode": "all"})
    assert digests(again) == digests(tmp_path / "rnd")


@pytest.mark.parametrize("bad, message", [
    ({"mode": "all"}, "needs a 'game'"),
    ({"game": "cartpole", "mode": "everything"}, "unknown mode"),
])
def test_bad_options(tmp_path, bad, message):
    controller = Controller(baseline_enjoy, baseline_collate, episodes=1, path=tmp_path,
                            expert=heuristic_policy(), progress=False)
    with pytest.raises(ValueError, match=message):
        controller.start(bad)


@pytest.mark.parametrize("kwargs, message", [
    ({"episodes": 0}, "episodes must be a positive integer"),
    ({"episodes": 2, "threads": 0}, r"workers must be >= 1 \(threads in the paper"),
    ({"episodes": 2, "workers": 0}, "workers must be >= 1"),
    ({"episodes": 2, "threads": 2, "workers": 3}, "threads is the paper's name for workers"),
    ({"episodes": 2, "amount": 2}, None),
    ({"amount": 2, "episodes": 3}, "amount is the paper's name for episodes"),
    ({"episodes": 2, "thread": 2}, "unknown key 'thread'; did you mean threshold"),
    ({"episodes": 2, "backend": "dask"}, "must be one of 'local', 'ray'"),
    ({"episodes": 2, "envs_per_worker": 0}, "envs_per_worker must be >= 1"),
    ({"episodes": 2, "npz": False}, "npz is chosen by the collate function"),
    ({"episodes": 2, "max_attempts": 0}, "max_attempts must be >= 1"),
    ({"episodes": 2, "seed": -1}, "seed must be >= 0"),
])
def test_bad_constructor_arguments(kwargs, message):
    if message is None:  # the aliases agree: accepted
        assert Controller(baseline_enjoy, baseline_collate, **kwargs).options.episodes == 2
        return
    with pytest.raises(ConfigError, match=message):
        Controller(baseline_enjoy, baseline_collate, **kwargs)


def test_the_paper_signature_fills_the_typed_options(tmp_path):
    controller = Controller(baseline_enjoy, baseline_collate, 1000, 4, tmp_path)
    assert controller.options == CollectOptions(episodes=1000, workers=4, path=str(tmp_path))
    assert controller.given == {"episodes", "workers", "path"}
    options = from_mapping(CollectOptions, {"episodes": 5, "workers": 2, "npz": False}, "test")
    built = Controller.from_options(options)
    assert built.options == dataclasses.replace(options, npz=True)  # npz lives in the collate
    assert built.collate.npz is False and built.enjoy is baseline_enjoy
    assert Controller.from_options(dataclasses.replace(options, random=True)).enjoy is random_enjoy


@pytest.mark.parametrize("opt, message", [
    ({"game": "c", "seed": 2}, "seed=2 but the Controller was built with seed=1; set seed in one"),
    ({"game": "c", "episodes": 3}, "'episodes' is set on Controller"),
    ({"game": "c", "workers": 3}, "'workers' is set on Controller"),
    ({"game": "c", "sed": 3}, "unknown key 'sed'; did you mean seed"),
    ({"game": "c", "max_attempts": "3"}, "'max_attempts' must be"),
])
def test_an_option_is_set_in_one_place(tmp_path, opt, message):
    controller = Controller(baseline_enjoy, baseline_collate, episodes=1, path=tmp_path, seed=1,
                            expert=heuristic_policy(), progress=False)
    with pytest.raises(ConfigError, match=message):
        controller.start(opt)
    assert not (tmp_path / "c").exists()


def test_start_sets_the_run_options_the_controller_left_unset(tmp_path):
    controller = Controller(baseline_enjoy, baseline_collate, episodes=2, path=tmp_path,
                            seed=1, expert=heuristic_policy(), progress=False)
    # the same value in both places is fine; a Namespace's other attributes are the user's own
    out = controller.start(Namespace(game="o", mode="all", seed=1, max_attempts=4, threads=9))
    collection = read_parquet(out)[1]["collection"]
    assert (collection["dataset_seed"], collection["max_attempts"]) == (1, 4)
    assert controller.options.max_attempts == 10  # start() does not change the Controller


# ---------------------------------------------------------------- interruptions
def _staged(directory: Path) -> int:
    """Episodes staged so far (complete log records), read through the staging API."""
    folders = directory.glob(".staging-*")
    return sum(len(Staging(directory, f.name.removeprefix(".staging-")).staged_episodes(10**9))
               for f in folders)


def _default_sigint() -> None:
    # A test runner started in the background of a non-interactive shell ignores SIGINT, and
    # children inherit that (Python then installs no KeyboardInterrupt handler): restore it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_slow(out: Path, episodes: int, threads: int, delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPTS / "slow_collect.py"), str(out),
                             str(episodes), str(threads), str(delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_sigint)


def _wait_for_staged(out: Path, count: int, process: subprocess.Popen, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while _staged(out) < count:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "collection made no progress"
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the slow script (same arguments as the interrupted ones)."""
    out = tmp_path_factory.mktemp("ref") / "slow"
    process = _start_slow(out, 16, 2, 0.0)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    return digests(out)


@pytest.mark.parametrize("how", ["sigkill-main", "sigint-main", "sigkill-worker"])
def test_interrupted_run_resumes_to_identical_bytes(tmp_path, reference, how):
    out = tmp_path / "slow"
    process = _start_slow(out, 16, 2, 0.0005)
    _wait_for_staged(out, 3, process)
    if how == "sigkill-worker":
        workers = _children(process.pid)
        assert workers, "no worker processes found"
        os.kill(workers[0], signal.SIGKILL)
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()
        assert "died" in process.stderr.read().decode()
    else:
        process.send_signal(signal.SIGKILL if how == "sigkill-main" else signal.SIGINT)
        process.wait(timeout=30)
        assert not (out / "metadata.json").exists()
        time.sleep(0.3)  # orphaned workers notice their parent is gone
        rerun = _start_slow(out, 16, 2, 0.0)
        assert rerun.wait(timeout=120) == 0, rerun.stderr.read().decode()
    assert digests(out) == reference


def test_paper_snippet_runs_as_written_without_main_guard(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPTS / "paper_snippet.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "dataset" / "cartpole" / "metadata.json").read_text())
    assert meta["episodes"]["count"] == 20
    assert meta["expert"]["kind"] == "curated" and meta["expert"]["id"] == "cartpole"
    assert (tmp_path / "dataset" / "cartpole" / "teacher.npz").exists()
    assert not math.isnan(meta["returns"]["mean"])


def test_spawned_child_importing_an_unguarded_script_gets_a_clear_message(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPTS / "spawn_without_guard.py")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert 'if __name__ == "__main__":' in result.stderr


def test_episode_log_ignores_a_torn_last_record(tmp_path):
    """A worker killed mid-write leaves a partial record: it is not staged (and gets replayed)."""
    staging = Staging(tmp_path, "f" * 64)
    staging.create({"run": 1})
    log = staging.open_log("w0")
    for index in (3, 1):
        staging.append(log, index, f"episode {index}".encode())
    os.close(log)
    path = next(staging.path.glob("episodes-w0-*.log"))
    whole = path.read_bytes()
    assert staging.staged_episodes(10) == {1, 3}
    path.write_bytes(whole[:-4])  # the second record lost its last bytes
    assert staging.staged_episodes(10) == {3}
    corrupt = bytearray(whole)
    corrupt[-1] ^= 0xFF  # payload no longer matches its CRC
    path.write_bytes(bytes(corrupt))
    assert staging.episode_bytes(10) == {3: b"episode 3"}
    assert staging.staged_episodes(2) == set()


def test_default_batch_is_smaller_for_mujoco_envs():
    assert default_envs_per_worker("Humanoid-v5") == 4
    assert default_envs_per_worker("Walker2d-v5") == 4
    assert default_envs_per_worker("CartPole-v1") == 16
    assert default_envs_per_worker("NoSuchEnv-v0") == 16  # the registry names it later
