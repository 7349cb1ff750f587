"""A missing optional dependency ends in one line naming our extra, before any work starts.

The import error is simulated: a meta-path finder refuses the module, in a fresh interpreter
(the suite's own interpreter has every extra installed).
"""

import subprocess
import sys
import textwrap

import pytest

from imitation_datasets.core.extras import (
    EXTRAS,
    MissingExtraError,
    env_extra,
    install_command,
    missing_modules,
    require_extra,
)

BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Block())
    sys.argv = sys.argv[1:]
""")


def run_blocked(blocked: str, code: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code), blocked, *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


def test_message_is_one_line_with_our_install_command(monkeypatch):
    monkeypatch.setitem(EXTRAS, "plots", ("surely_not_a_module_xyz",))
    with pytest.raises(MissingExtraError) as caught:
        require_extra("plots", "the benchmark's plots")
    message = str(caught.value)
    assert message == ('the benchmark\'s plots needs the [plots] extra (surely_not_a_module_xyz '
                       'not installed): pip install "imitation-datasets[plots]"')
    assert isinstance(caught.value, ImportError)  # `except ImportError` keeps working
    assert missing_modules("hf") == [] and install_command("ray").endswith('[ray]"')
    with pytest.raises(KeyError, match="unknown extra"):
        missing_modules("nope")


def test_environments_name_the_extra_of_their_simulator():
    assert env_extra("LunarLander-v3") == "box2d"
    assert env_extra("BipedalWalker-v3") == "box2d"
    assert env_extra("LunarLanderContinuous-v3") == "box2d"
    assert env_extra("Hopper-v5") == "mujoco"
    assert env_extra("CartPole-v1") is None and env_extra("NoSuchEnv-v0") is None


@pytest.mark.parametrize(("blocked", "game", "extra"), [
    ("Box2D", "lunarlander", "box2d"), ("Box2D", "BipedalWalker-v3", "box2d"),
    ("mujoco", "hopper", "mujoco")])
def test_collect_without_the_simulator_fails_in_one_line_before_any_worker(
        tmp_path, blocked, game, extra):
    random = [] if game.islower() else ["--random"]
    result = run_blocked(blocked, """
        from imitation_datasets.cli import main
        raise SystemExit(main(sys.argv[1:]))
    """, "collect", game, "--episodes", "2", "--workers", "1", "--out", str(tmp_path / "d"),
        *random)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].endswith(f'needs the [{extra}] extra ({blocked} not installed): '
                             f'pip install "imitation-datasets[{extra}]"')
    assert "swig" not in result.stderr
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_retraining_an_sb3_expert_without_sb3_fails_in_one_line():
    result = run_blocked("stable_baselines3", """
        import imitation_zoo.train as train
        raise SystemExit(train.main(["cartpole"]))
    """)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert 'needs the [sb3] extra (stable_baselines3 not installed): pip install ' \
           '"imitation-datasets[sb3]"' in result.stderr


@pytest.mark.parametrize(("blocked", "code", "extra"), [
    ("datasets", "from imitation_datasets.dataset import to_hf_dataset; "
                 "to_hf_dataset(sys.argv[1])", "hf"),
    ("minari", "from imitation_datasets.dataset import to_minari; "
               "to_minari(sys.argv[1], 'x/y-v0')", "minari"),
])
def test_interop_without_its_client_names_the_extra(tmp_path, blocked, code, extra):
    from conftest import make_dataset

    path = make_dataset(tmp_path, 2, random=True, name="d")
    result = run_blocked(blocked, f"""
        from imitation_datasets.core.extras import MissingExtraError
        try:
            {code}
        except MissingExtraError as exc:
            print(exc)
    """, str(path))
    assert result.returncode == 0, result.stderr
    assert f'pip install "imitation-datasets[{extra}]"' in result.stdout


def test_a_hub_dataset_without_the_hf_extra_names_it():
    result = run_blocked("huggingface_hub,datasets", """
        from imitation_datasets.core.extras import MissingExtraError
        from imitation_datasets.dataset import BaselineDataset
        try:
            BaselineDataset("org/CartPole-v1", source="hf", n_episodes=1)
        except MissingExtraError as exc:
            print(exc)
    """)
    assert result.returncode == 0, result.stderr
    assert "org/CartPole-v1 (source='hf') needs the [hf] extra" in result.stdout
    assert 'pip install "imitation-datasets[hf]"' in result.stdout


def test_ray_backend_without_ray_fails_in_one_line(tmp_path):
    result = run_blocked("ray", """
        from imitation_datasets.cli import main
        raise SystemExit(main(sys.argv[1:]))
    """, "collect", "cartpole", "--episodes", "2", "--workers", "1", "--backend", "ray",
        "--out", str(tmp_path / "d"), "--quiet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "il-datasets: error: backend='ray' needs the [ray] extra (ray not installed): "
        'pip install "imitation-datasets[ray]"')
