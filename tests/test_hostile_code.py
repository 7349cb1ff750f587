"""Nothing in a file runs code, and every path a file names stays in its folder.

A hostile-file corpus generated here (no committed binaries): Minari datasets whose env spec
names ``os:system`` or a module in the working directory, Minari ids that climb out of
``MINARI_DATASETS_PATH``, expert cards naming ``module:`` env ids, weights outside their folder
and fields of the wrong type, and ``save_to_disk`` folders whose JSON lists files elsewhere.
Each hostile payload would write a marker file; every test checks the marker is absent, the
refusal is one line naming the file, and legitimate inputs still load.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.schema import FORMAT_NAME
from imitation_datasets.dataset import BaselineDataset, from_minari, minari_to_dataset, to_minari
from imitation_datasets.experts import CardError, CuratedExpert, ExpertCard
from imitation_datasets.experts.curated import ZOO_DIR

pytestmark = [pytest.mark.filterwarnings("ignore:`.*` is set to None"),
              pytest.mark.filterwarnings("ignore:env_spec is None")]
MARKER = "PWNED"
PWN_MODULE = "pwnmod_il_datasets"


@pytest.fixture
def marker(tmp_path, monkeypatch):
    """A working directory holding ``pwnmod_il_datasets.py`` (importable), and its marker path.

    Importing the module, or calling ``os.system`` with the hostile command, creates the marker.
    """
    path = tmp_path / MARKER
    (tmp_path / f"{PWN_MODULE}.py").write_text(
        "import gymnasium as gym\n"
        f"open({str(path)!r}, 'w').write('imported')\n"
        "gym.register('PwnPole-v1', entry_point='gymnasium.envs.classic_control:CartPoleEnv')\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    yield path
    sys.modules.pop(PWN_MODULE, None)
    gym.registry.pop("PwnPole-v1", None)


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message, message
    return message


# ----------------------------------------------------------------------------------- Minari
minari = pytest.importorskip("minari")


def cartpole_buffers(episodes: int = 3) -> list:
    from minari.data_collector import EpisodeBuffer

    rng = np.random.default_rng(0)
    buffers = []
    for e in range(episodes):
        steps = 4 + e
        buffers.append(EpisodeBuffer(
            seed=10 + e, observations=rng.standard_normal((steps + 1, 4)).astype(np.float32),
            actions=rng.integers(0, 2, steps), rewards=[1.0] * steps,
            terminations=[False] * (steps - 1) + [True], truncations=[False] * steps))
    return buffers


def make_minari(dataset_id: str) -> Path:
    """A legitimate Minari CartPole dataset; returns its ``data/metadata.json``."""
    minari.create_dataset_from_buffers(dataset_id, cartpole_buffers(), env="CartPole-v1",
                                       algorithm_name="random", data_format="arrow")
    return Path(os.environ["MINARI_DATASETS_PATH"], dataset_id, "data", "metadata.json")


def hostile_spec(env_id: str, marker: Path) -> str:
    """An env spec whose entry point runs a shell command that creates ``marker``."""
    return json.dumps({
        "id": env_id, "entry_point": "os:system", "reward_threshold": None,
        "nondeterministic": False, "max_episode_steps": None, "order_enforce": True,
        "disable_env_checker": True, "kwargs": {"command": f"touch {marker}"},
        "additional_wrappers": [], "vector_entry_point": None,
    })


def edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))


def test_minari_env_spec_of_a_file_is_never_instantiated(marker):
    meta = make_minari("hostile/unregistered-v0")
    edit_json(meta, observation_space=None, env_spec=hostile_spec("Pwn-v0", marker))
    with pytest.raises(DatasetFormatError, match="not a registered Gymnasium id") as excinfo:
        from_minari("hostile/unregistered-v0")
    assert "minari://hostile/unregistered-v0" in one_line(excinfo)
    with pytest.raises(DatasetFormatError, match="never instantiated"):
        BaselineDataset("hostile/unregistered-v0", source="minari")
    meta = make_minari("hostile/module-v0")
    edit_json(meta, observation_space=None,
              env_spec=hostile_spec(f"{PWN_MODULE}:PwnPole-v1", marker))
    with pytest.raises(DatasetFormatError, match="not a registered Gymnasium id"):
        from_minari("hostile/module-v0")
    assert not marker.exists() and PWN_MODULE not in sys.modules


def test_minari_missing_spaces_come_from_the_registry_not_the_file(marker):
    meta = make_minari("hostile/registered-v0")
    edit_json(meta, observation_space=None, action_space=None,
              env_spec=hostile_spec("CartPole-v1", marker))
    arrays, metadata = from_minari("hostile/registered-v0")
    assert arrays.obs.shape == (15, 4) and arrays.lengths.tolist() == [4, 5, 6]
    assert metadata["env"]["id"] == "CartPole-v1"
    assert metadata["env"]["spec"]["entry_point"] == gym.spec("CartPole-v1").entry_point
    data = BaselineDataset("hostile/registered-v0", source="minari")
    assert len(data) == 15
    assert not marker.exists()


def test_minari_ids_stay_inside_the_datasets_folder(marker, tmp_path):
    make_minari("inside/data-v0")
    outside = tmp_path / "outside"
    shutil.copytree(tmp_path / "minari" / "inside", outside)
    bad_ids = ["../outside/data-v0", str(outside / "data-v0"), "inside/../inside/data-v0",
               "inside/./data-v0", "inside//data-v0", "in side/data-v0", "inside/data",
               "inside/data-v0\n", "x" * 300 + "-v0", ""]
    for bad in bad_ids:
        with pytest.raises(DatasetFormatError, match="invalid Minari dataset id") as excinfo:
            from_minari(bad)
        one_line(excinfo)
    with pytest.raises(DatasetFormatError, match="invalid Minari dataset id"):
        BaselineDataset("../outside/data-v0", source="minari")
    with pytest.raises(DatasetFormatError, match="invalid Minari dataset id"):
        to_minari(tmp_path / "nothing", "../escape-v0")
    (tmp_path / "minari" / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DatasetFormatError, match="leads outside"):
        from_minari("link/data-v0")
    assert from_minari("inside/data-v0")[0].n_episodes == 3


def test_minari_files_are_checked_before_use(marker, tmp_path):
    meta = make_minari("bad/dict-v0")
    edit_json(meta, observation_space=json.dumps({"type": "Dict", "subspaces": {}}))
    with pytest.raises(DatasetFormatError, match="Dict spaces are not supported"):
        from_minari("bad/dict-v0")
    huge = {"type": "Box", "dtype": "float32", "shape": [1 << 20, 1 << 20], "low": 0.0,
            "high": 1.0}
    edit_json(meta, observation_space=json.dumps(huge))
    with pytest.raises(DatasetFormatError, match="larger than"):
        from_minari("bad/dict-v0")
    edit_json(meta, observation_space=json.dumps({**huge, "shape": [4], "dtype": "V8"}))
    with pytest.raises(DatasetFormatError, match="not a numeric dtype"):
        from_minari("bad/dict-v0")
    meta = make_minari("bad/episodes-v0")
    edit_json(meta, total_episodes=10**12)
    with pytest.raises(DatasetFormatError, match="total_episodes"):
        from_minari("bad/episodes-v0")
    edit_json(meta, total_episodes=3, data_format="pickle")
    with pytest.raises(DatasetFormatError, match="unknown data_format"):
        from_minari("bad/episodes-v0")
    edit_json(meta, data_format="arrow")
    episode = meta.parent / "0"
    shutil.move(episode, tmp_path / "elsewhere")
    episode.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(DatasetFormatError, match="leads outside"):
        from_minari("bad/episodes-v0")
    episode.unlink()
    shutil.move(tmp_path / "elsewhere", episode)
    os.mkfifo(episode / "pipe")
    with pytest.raises(DatasetFormatError, match="FIFO"):
        from_minari("bad/episodes-v0")
    meta.unlink()
    os.mkfifo(meta)
    with pytest.raises(DatasetFormatError, match="FIFO"):
        from_minari("bad/episodes-v0")


def test_minari_export_rebuilds_the_env_spec_from_the_registry(marker, tmp_path):
    make_minari("src/cartpole-v0")
    ours = minari_to_dataset("src/cartpole-v0", tmp_path / "ours")
    meta = ours / "metadata.json"
    data = json.loads(meta.read_text())
    data["env"]["spec"] = json.loads(hostile_spec("CartPole-v1", marker))
    meta.write_text(json.dumps(data))
    exported = to_minari(ours, "out/cartpole-v0")
    raw = json.loads((tmp_path / "minari/out/cartpole-v0/data/metadata.json").read_text())
    for key in ("env_spec", "eval_env_spec"):
        spec = json.loads(raw[key])
        assert spec["entry_point"] == gym.spec("CartPole-v1").entry_point
    exported.recover_environment().close()
    exported.recover_environment(eval_env=True).close()
    assert not marker.exists()
    for env_id in (f"{PWN_MODULE}:PwnPole-v1", "Unregistered-v0"):
        data["env"]["id"] = env_id
        meta.write_text(json.dumps(data))
        name = f"out/{env_id.split(':')[-1].lower()}-v0"
        to_minari(ours, name)
        raw = json.loads((tmp_path / "minari" / name / "data" / "metadata.json").read_text())
        assert "env_spec" not in raw and "eval_env_spec" not in raw
    assert not marker.exists() and PWN_MODULE not in sys.modules
    data["env"].update(id="CartPole-v1", kwargs={"xml_file": "/etc/passwd"})
    meta.write_text(json.dumps(data))
    with pytest.raises(DatasetFormatError, match="xml_file"):
        to_minari(ours, "out/kwargs-v0")


# ------------------------------------------------------------------------------ expert cards
@pytest.fixture
def card_dir(tmp_path):
    """A copy of the shipped CartPole card and weights; returns the card path."""
    folder = tmp_path / "zoo"
    folder.mkdir()
    shutil.copy(ZOO_DIR / "cartpole.json", folder)
    shutil.copy(ZOO_DIR / "cartpole.safetensors", folder)
    return folder / "cartpole.json"


def write_card(path: Path, **changes) -> Path:
    edit_json(path, **changes)
    return path


def test_card_with_a_module_env_id_imports_nothing(marker, card_dir):
    write_card(card_dir, env_id=f"{PWN_MODULE}:PwnPole-v1")
    with pytest.raises(CardError, match="would import module") as excinfo:
        CuratedExpert.from_card_file(card_dir)
    assert str(card_dir) in one_line(excinfo) and "env_id" in str(excinfo.value)
    assert not marker.exists() and PWN_MODULE not in sys.modules
    expert = CuratedExpert.from_card_file(card_dir, allow_env_import=True)  # the caller's call
    assert expert.env_id == f"{PWN_MODULE}:PwnPole-v1" and not marker.exists()
    write_card(card_dir, env_id="NoSuchEnv-v0")
    with pytest.raises(CardError, match="not a registered Gymnasium environment"):
        CuratedExpert.from_card_file(card_dir)
    with pytest.raises(CardError, match="not a registered"):
        CuratedExpert.from_card_file(card_dir, allow_env_import=True)


@pytest.mark.parametrize("kwargs", [{"xml_file": "/etc/passwd"}, {"xml_file": "../x.xml"},
                                    {"model_path": "sub/x.xml"}, {"a": {"nested": 1}}, [1]])
def test_card_env_kwargs_are_plain_values(card_dir, kwargs):
    write_card(card_dir, env_kwargs=kwargs)
    with pytest.raises(CardError, match="env_kwargs") as excinfo:
        ExpertCard.from_file(card_dir)
    assert str(card_dir) in one_line(excinfo)


def test_card_weights_stay_in_the_card_folder(card_dir, tmp_path):
    outside = tmp_path / "outside.safetensors"
    shutil.copy(card_dir.parent / "cartpole.safetensors", outside)
    for name in (str(outside), "../outside.safetensors", "sub/../../outside.safetensors",
                 "..\\outside.safetensors", ""):
        write_card(card_dir, weights_file=name)
        with pytest.raises(CardError, match="weights_file") as excinfo:
            CuratedExpert.from_card_file(card_dir)
        assert str(card_dir) in one_line(excinfo)
    (card_dir.parent / "link.safetensors").symlink_to(outside)
    write_card(card_dir, weights_file="link.safetensors")
    with pytest.raises(CardError, match="leads outside"):
        CuratedExpert.from_card_file(card_dir)
    write_card(card_dir, weights_file="cartpole.safetensors")
    expert = CuratedExpert.from_card_file(card_dir).load()
    assert expert.predict(np.zeros(4, dtype=np.float32))[0] in (0, 1)


@pytest.mark.parametrize("field, value", [
    ("threshold", "high"), ("target", None), ("threshold", float("nan")),
    ("evaluation.return_mean", float("inf")), ("name", 3), ("env_id", ["CartPole-v1"]),
    ("aliases", "cp"), ("aliases", [1]), ("network", []), ("training", "x"),
    ("schema_version", "1"), ("schema_version", True), ("action_low", ["a"]),
    ("evaluation", [1]), ("evaluation.episodes", "100"), ("evaluation.return_mean", None),
    ("evaluation.command", 5), ("network.head", [1]),
])
def test_card_field_of_the_wrong_type_is_one_line(card_dir, field, value):
    data = json.loads(card_dir.read_text())
    section, _, key = field.rpartition(".")
    (data[section] if section else data)[key] = value
    card_dir.write_text(json.dumps(data))
    with pytest.raises(CardError) as excinfo:
        CuratedExpert.from_card_file(card_dir)
    message = one_line(excinfo)
    assert str(card_dir) in message and field in message


def test_card_that_is_not_a_regular_file_is_refused(card_dir, tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    with pytest.raises(CardError, match="FIFO"):
        ExpertCard.from_file(fifo)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CardError, match="nested too deeply"):
        ExpertCard.from_file(deep)


# ------------------------------------------------------------------- save_to_disk folders
datasets = pytest.importorskip("datasets")


def tiny_arrays() -> DatasetArrays:
    rng = np.random.default_rng(1)
    lengths = np.array([3, 4], dtype=np.int64)
    steps = int(lengths.sum())
    last = np.cumsum(lengths) - 1
    terminated = np.zeros(steps, dtype=bool)
    terminated[last] = True
    return DatasetArrays(
        obs=rng.standard_normal((steps, 4)).astype(np.float32),
        actions=rng.integers(0, 2, steps).astype(np.int64), rewards=np.ones(steps),
        terminated=terminated, truncated=np.zeros(steps, dtype=bool), lengths=lengths,
        final_obs=rng.standard_normal((2, 4)).astype(np.float32),
        seeds=np.array([1, 2], dtype=np.int64), attempts=np.ones(2, dtype=np.int64))


@pytest.fixture
def saved(tmp_path):
    """A ``save_to_disk`` folder, and a copy of its Arrow file outside it."""
    from imitation_datasets.dataset import to_hf_dataset

    folder = tmp_path / "saved"
    to_hf_dataset(tiny_arrays()).save_to_disk(str(folder))
    arrow = sorted(folder.glob("*.arrow"))[0]
    shutil.copy(arrow, tmp_path / "secret.arrow")
    return folder


def test_saved_dataset_names_only_files_inside_its_folder(saved, tmp_path):
    assert BaselineDataset(saved).num_episodes == 2
    state = saved / "state.json"
    original = state.read_text()
    for name in ("../secret.arrow", str(tmp_path / "secret.arrow"), "a/../../secret.arrow"):
        edit_json(state, _data_files=[{"filename": name}])
        with pytest.raises(DatasetFormatError, match="_data_files") as excinfo:
            BaselineDataset(saved)
        assert str(state) in one_line(excinfo)
    (saved / "link.arrow").symlink_to(tmp_path / "secret.arrow")
    edit_json(state, _data_files=[{"filename": "link.arrow"}])
    with pytest.raises(DatasetFormatError, match="leads outside"):
        BaselineDataset(saved)
    for files in ("x", [], [{"filename": 3}], None):
        edit_json(state, _data_files=files)
        with pytest.raises(DatasetFormatError, match="_data_files"):
            BaselineDataset(saved)
    state.write_text(original)
    (saved / "state.json").unlink()
    (saved / "state.json").symlink_to("/dev/zero")
    with pytest.raises(DatasetFormatError, match="character device"):
        BaselineDataset(saved)


def test_saved_dataset_dict_splits_stay_inside(tmp_path):
    from imitation_datasets.dataset import to_hf_dataset

    folder = tmp_path / "dict"
    datasets.DatasetDict({"train": to_hf_dataset(tiny_arrays())}).save_to_disk(str(folder))
    assert BaselineDataset(folder).num_episodes == 2
    shutil.copytree(folder / "train", tmp_path / "elsewhere")
    for split in ("../elsewhere", str(tmp_path / "elsewhere")):
        (folder / "dataset_dict.json").write_text(json.dumps({"splits": [split]}))
        with pytest.raises(DatasetFormatError, match="splits entry") as excinfo:
            BaselineDataset(folder, hf_split=split)
        one_line(excinfo)
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": "train"}))
    with pytest.raises(DatasetFormatError, match="'splits' must be a list"):
        BaselineDataset(folder)


def test_hf_description_metadata_is_checked_like_a_file(tmp_path):
    from imitation_datasets.dataset import from_hf_dataset, to_hf_dataset

    dataset = to_hf_dataset(tiny_arrays())
    dataset.info.description = "[" * 100_000 + "]" * 100_000  # not ours: ignored, no crash
    assert from_hf_dataset(dataset)[1] is None
    dataset.info.description = json.dumps({"format": FORMAT_NAME, "env": {}})
    with pytest.raises(DatasetFormatError, match="without key") as excinfo:
        from_hf_dataset(dataset, origin="someone/x")
    assert "someone/x" in one_line(excinfo)


def test_hub_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "train.parquet"
    os.mkfifo(fifo)
    with pytest.raises(DatasetFormatError, match="FIFO"):
        BaselineDataset(fifo)


@pytest.mark.parametrize("network", [{"layers": "xx"}, {"layers": [{"op": "linear"}]},
                                     {"layers": [{"op": "linear", "name": "nope"}]},
                                     {"layers": [1]}])
def test_card_network_that_does_not_fit_the_weights_is_one_line(card_dir, network):
    write_card(card_dir, network=network)
    with pytest.raises(CardError, match="field network") as excinfo:
        CuratedExpert.from_card_file(card_dir).load()
    assert str(card_dir) in one_line(excinfo)


def as_hub_snapshot(folder: Path, repo: Path) -> Path:
    """``folder`` laid out as a hub cache download: files are relative symlinks into blobs."""
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "blobs").mkdir(parents=True)
    for index, path in enumerate(sorted(p for p in folder.rglob("*") if p.is_file())):
        target = snapshot / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, repo / "blobs" / str(index))
        target.symlink_to(os.path.relpath(repo / "blobs" / str(index), target.parent))
    return snapshot


def test_hub_folder_symlinks_stay_inside(tmp_path):
    from imitation_datasets.dataset import write_hub_folder

    folder = write_hub_folder(tiny_arrays(), tmp_path / "hub")
    snapshot = as_hub_snapshot(folder, tmp_path / "cache" / "datasets--someone--x")
    assert BaselineDataset(snapshot).num_episodes == 2  # symlinks into the repo's blobs: fine
    data = folder / "data" / "train-00000-of-00001.parquet"
    assert BaselineDataset(folder).num_episodes == 2
    shutil.move(data, tmp_path / "secret.parquet")
    data.symlink_to(tmp_path / "secret.parquet")
    with pytest.raises(DatasetFormatError, match="leads outside") as excinfo:
        BaselineDataset(folder)
    assert str(folder) in one_line(excinfo)
    linked = snapshot / "data" / "train-00000-of-00001.parquet"
    linked.unlink()
    linked.symlink_to(tmp_path / "secret.parquet")
    with pytest.raises(DatasetFormatError, match="leads outside"):
        BaselineDataset(snapshot)


def test_saved_dataset_in_a_hub_cache_loads(saved, tmp_path):
    snapshot = as_hub_snapshot(saved, tmp_path / "cache" / "datasets--someone--saved")
    assert BaselineDataset(snapshot).num_episodes == 2
    state = json.loads((snapshot / "state.json").read_text())
    (snapshot / "state.json").unlink()
    (snapshot / "state.json").write_text(json.dumps(
        {**state, "_data_files": [{"filename": "../../../../secret.arrow"}]}))
    with pytest.raises(DatasetFormatError, match="_data_files"):
        BaselineDataset(snapshot)


def test_minari_jpeg_larger_than_its_space_is_refused_before_decoding(marker):
    from minari.data_collector import EpisodeBuffer

    space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
    frames = np.zeros((4, 64, 64, 3), dtype=np.uint8)
    minari.create_dataset_from_buffers(
        "images/jpeg-v0", [EpisodeBuffer(observations=frames, actions=np.zeros(3, np.int64),
                                         rewards=[0.0] * 3, terminations=[False] * 3,
                                         truncations=[False, False, True])],
        observation_space=space, action_space=gym.spaces.Discrete(2), data_format="arrow")
    arrays, _ = from_minari("images/jpeg-v0")
    assert arrays.obs.shape == (3, 64, 64, 3)
    meta = Path(os.environ["MINARI_DATASETS_PATH"], "images/jpeg-v0/data/metadata.json")
    from minari.serialization import serialize_space

    edit_json(meta, observation_space=serialize_space(gym.spaces.Box(0, 255, (32, 32, 3),
                                                                     np.uint8)))
    with pytest.raises(DatasetFormatError, match="larger than the observation space"):
        from_minari("images/jpeg-v0")
    edit_json(meta, observation_space=serialize_space(gym.spaces.Box(0, 255, (128, 128, 3),
                                                                     np.uint8)))
    with pytest.raises(DatasetFormatError, match="the observation space says"):
        from_minari("images/jpeg-v0")


def test_hf_metadata_dtype_that_cannot_hold_the_data_is_refused(tmp_path):
    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.dataset import from_hf_dataset, to_hf_dataset

    arrays = tiny_arrays()
    space = {"type": "Box", "shape": [4], "dtype": "uint8", "low": [0] * 4, "high": [255] * 4}
    metadata = build_metadata(arrays, env={"id": "CartPole-v1", "observation_space": space},
                              expert={}, collection={}, acceptance={}, reference={},
                              creation={})
    dataset = to_hf_dataset(arrays, metadata)
    with pytest.raises(DatasetFormatError, match="cannot represent"):
        from_hf_dataset(dataset, origin="someone/x")
    dataset.save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(DatasetFormatError, match="cannot represent"):
        BaselineDataset(tmp_path / "saved")


def test_minari_carried_metadata_is_checked(marker, tmp_path):
    make_minari("carried/x-v0")
    ours = minari_to_dataset("carried/x-v0", tmp_path / "ours")
    to_minari(ours, "carried/ours-v0")
    meta = tmp_path / "minari" / "carried/ours-v0/data/metadata.json"
    raw = json.loads(meta.read_text())
    carried = json.loads(raw["imitation_datasets_metadata"])
    edit_json(meta, imitation_datasets_metadata=json.dumps({**carried, "total_steps": "many"}))
    with pytest.raises(DatasetFormatError, match="total_steps") as excinfo:
        from_minari("carried/ours-v0")
    one_line(excinfo)
    edit_json(meta, imitation_datasets_metadata="[" * 100_000 + "]" * 100_000)
    with pytest.raises(DatasetFormatError, match="not valid JSON"):
        from_minari("carried/ours-v0")
