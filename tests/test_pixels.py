"""Pixel-observation datasets: the expert acts on its state, the dataset holds rendered frames."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pygame")
from PIL import Image  # noqa: E402

from imitation_datasets.collect.options import CollectOptions  # noqa: E402
from imitation_datasets.controller import Controller  # noqa: E402
from imitation_datasets.data.torch_dataset import BaselineDataset  # noqa: E402


def collect(path: Path, game: str, workers: int, pixels: bool = True, episodes: int = 2,
            size: tuple[int, int] = (48, 64), keep_states: bool = False) -> Path:
    options = CollectOptions(episodes=episodes, workers=workers, seed=7, pixels=pixels,
                             size=size, path=str(path), progress=False, envs_per_worker=2,
                             keep_states=keep_states)
    return Controller.from_options(options, command="tests").start({"game": game,
                                                                     "mode": "all"})


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def cartpole(tmp_path_factory):
    root = tmp_path_factory.mktemp("pixels")
    return {workers: collect(root / f"w{workers}", "cartpole", workers) for workers in (1, 2)}


def test_pixel_collection_is_byte_identical_across_worker_counts(cartpole):
    one, two = files(cartpole[1]), files(cartpole[2])
    assert "steps/obs.arrow" in one and "steps/obs.npy" not in one
    assert one == two


def test_frames_are_the_states_episodes_rendered(cartpole, tmp_path):
    """Same episodes as the state dataset of the seed; observations are its rendered frames."""
    pixels = BaselineDataset(cartpole[1])
    states = BaselineDataset(collect(tmp_path, "cartpole", 1, pixels=False))
    assert np.array_equal(pixels.arrays.actions, states.arrays.actions)
    assert np.array_equal(pixels.arrays.rewards, states.arrays.rewards)
    assert np.array_equal(pixels.episode_seeds, states.episode_seeds)
    assert pixels.observation_space.shape == (48, 64, 3)
    assert pixels.observation_space.dtype == np.uint8
    meta = pixels.metadata
    assert meta["env"]["state_space"]["shape"] == [4]
    assert meta["collection"]["pixels"]["height"] == 48
    state, action, following = pixels[0]
    assert state.shape == (48, 64, 3) and state.dtype == torch.uint8
    assert torch.equal(following, pixels[1][0])  # s' is the next step's frame
    assert not torch.equal(state, pixels[100][0])  # the cart moved
    # s' of an episode's last step is the stored final frame
    last = int(pixels.episode_lengths[0]) - 1
    assert torch.equal(pixels[last][2], torch.from_numpy(pixels.arrays.final_obs[0]))
    assert torch.equal(pixels[last][0], pixels[last - 1][2])
    # the renderer's own frame of the first state, resized the same way, is the first item
    import gymnasium as gym

    from imitation_datasets.collect.pixels import PixelSpec, resize

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=int(pixels.episode_seeds[0]))
    assert np.array_equal(resize(env.render(), PixelSpec(48, 64)), state.numpy())
    env.close()


def test_states_kept_beside_the_frames_are_the_state_datasets(cartpole, tmp_path):
    kept = collect(tmp_path / "kept", "cartpole", 2, keep_states=True)
    states = BaselineDataset(collect(tmp_path / "states", "cartpole", 1, pixels=False))
    dataset = BaselineDataset(kept)
    assert np.array_equal(dataset.env_states, states.arrays.obs)
    assert np.array_equal(dataset.final_env_states, states.arrays.final_obs)
    assert dataset.metadata["collection"]["pixels"]["keep_states"] is True
    # the frames and every other column are those of the same run without the states
    without, with_states = files(cartpole[1]), files(kept)
    assert set(with_states) - set(without) == {"steps/state.npy", "steps/final_state.npy"}
    for name in without:
        if name != "metadata.json":
            assert with_states[name] == without[name], name
    # plain .npy files, readable without this library; an eval split keeps its rows
    on_disk = np.load(kept / "steps" / "state.npy", mmap_mode="r", allow_pickle=False)
    assert np.array_equal(on_disk, states.arrays.obs)
    first = int(dataset.episode_lengths[0])
    split = BaselineDataset(kept, split="eval", n_episodes=1)
    assert np.array_equal(split.env_states, states.arrays.obs[first:])
    assert np.array_equal(split.final_env_states, states.arrays.final_obs[1:])
    assert BaselineDataset(cartpole[1]).env_states is None
    (kept / "steps" / "final_state.npy").unlink()
    from imitation_datasets.core.errors import DatasetFormatError

    with pytest.raises(DatasetFormatError, match="final_state.npy: missing"):
        BaselineDataset(kept)


def test_keep_states_needs_pixels():
    from imitation_datasets.core.errors import ConfigError

    with pytest.raises(ConfigError, match="needs pixels"):
        CollectOptions(keep_states=True)


def test_image_space_metadata_is_compact_and_list_bounds_still_load(cartpole, tmp_path):
    import json
    import shutil

    meta_path = cartpole[1] / "metadata.json"
    space = json.loads(meta_path.read_text())["env"]["observation_space"]
    assert (space["low"], space["high"]) == (0, 255)
    assert meta_path.stat().st_size < 8_000  # was 426 KB for 84x84 frames (lists of bounds)
    # a folder written before, with a bound per value, loads the same
    old = tmp_path / "old"
    shutil.copytree(cartpole[1], old)
    meta = json.loads(meta_path.read_text())
    size = 48 * 64 * 3
    meta["env"]["observation_space"].update(low=[0] * size, high=[255] * size)
    (old / "metadata.json").write_text(json.dumps(meta, indent=2))
    before, after = BaselineDataset(cartpole[1]), BaselineDataset(old)
    assert before.observation_space == after.observation_space
    assert after.observation_space.dtype == np.uint8
    for got, want in zip(after[3], before[3]):
        assert torch.equal(got, want)


def test_frames_are_png_readable_by_hf_datasets_without_this_library(cartpole):
    datasets = pytest.importorskip("datasets")
    table = datasets.Dataset.from_file(str(cartpole[1] / "steps" / "obs.arrow"))
    assert isinstance(table.features["image"], datasets.Image)
    ours = BaselineDataset(cartpole[1])
    for row in (0, 5, len(table) - 1):
        image = table[row]["image"]
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image), ours.arrays.obs[row])
    raw = table.with_format("arrow")[3]["image"][0]["bytes"].as_py()
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(raw))), ours.arrays.obs[3])


def test_dataloader_decodes_frames_in_batches(cartpole):
    dataset = BaselineDataset(cartpole[2],
                              transform=lambda x: x.permute(2, 0, 1).float() / 255)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    states, actions, following = next(iter(loader))
    assert states.shape == (16, 3, 48, 64) and following.shape == (16, 3, 48, 64)
    assert float(states.max()) <= 1.0 and actions.dtype == torch.int64


def test_box2d_expert_renders_through_pygame(tmp_path):
    pytest.importorskip("Box2D")
    folder = collect(tmp_path, "lunarlander", 1, episodes=1, size=(32, 32))
    dataset = BaselineDataset(folder)
    assert dataset[0][0].shape == (32, 32, 3)
    assert dataset.metadata["env"]["state_space"]["shape"] == [8]
    frames = np.stack([dataset.arrays.obs[i] for i in (0, len(dataset) // 2)])
    assert frames.std() > 0  # not a blank screen


def test_bad_frame_size_is_one_line():
    from imitation_datasets.core.errors import ConfigError

    with pytest.raises(ConfigError, match="size must be two numbers"):
        CollectOptions(pixels=True, size=(84,))


def test_frame_stack_recorded_at_collection_is_the_loader_default(tmp_path):
    options = CollectOptions(episodes=1, workers=1, seed=7, pixels=True, size=(24, 24),
                             frame_stack=3, path=str(tmp_path), progress=False)
    folder = Controller.from_options(options).start({"game": "cartpole", "mode": "all"})
    stacked = BaselineDataset(folder)
    single = BaselineDataset(folder, frame_stack=1)
    assert stacked.metadata["collection"]["pixels"]["frame_stack"] == 3
    state, _, following = stacked[5]
    assert state.shape == (3, 24, 24, 3)
    for k in range(3):
        assert torch.equal(state[k], single[3 + k][0])
        assert torch.equal(following[k], single[4 + k][0])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other-size", "fewer"])
def test_damaged_frame_files_are_refused_in_one_line(cartpole, tmp_path, damage):
    import shutil

    from imitation_datasets.core.errors import DatasetFormatError
    from imitation_datasets.data.images import FrameWriter

    folder = tmp_path / "copy"
    shutil.copytree(cartpole[1], folder)
    frames = folder / "steps" / "obs.arrow"
    rows = len(BaselineDataset(folder).arrays.rewards)
    if damage == "truncated":
        frames.write_bytes(frames.read_bytes()[:-100])
    elif damage == "garbage":
        frames.write_bytes(b"\xff" * 4096)
    else:
        writer = FrameWriter(frames)
        count = rows if damage == "other-size" else rows - 1
        writer.write(np.zeros((count, 8, 8, 3), dtype=np.uint8))
        writer.close()
    with pytest.raises(DatasetFormatError, match="obs.arrow") as error:
        dataset = BaselineDataset(folder)
        dataset[0]
    assert "\n" not in str(error.value)


def test_mujoco_pixels_render_offscreen_or_name_what_to_install(tmp_path, capsys):
    pytest.importorskip("mujoco")
    from imitation_datasets.cli import main
    from imitation_datasets.collect.pixels import RenderError, check_rendering

    try:
        check_rendering("HalfCheetah-v5")
    except RenderError:
        status = main(["collect", "halfcheetah", "--episodes", "1", "--pixels", "--out",
                       str(tmp_path / "hc"), "--quiet"])
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert status == 2 and "MUJOCO_GL=egl" in error and "osmesa" in error
        assert not (tmp_path / "hc" / "metadata.json").exists()
    else:  # an offscreen GL backend is present: frames are recorded
        folder = collect(tmp_path, "halfcheetah", 1, episodes=1, size=(16, 16))
        assert BaselineDataset(folder)[0][0].shape == (16, 16, 3)


def test_compact_box_bounds_round_trip_and_bad_ones_are_refused():
    import gymnasium as gym

    from imitation_datasets.core.errors import DatasetFormatError
    from imitation_datasets.data.schema import space_from_dict, space_to_dict

    spaces = [gym.spaces.Box(0, 255, (4, 4, 3), np.uint8),
              gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
              gym.spaces.Box(np.array([0.0, 1.0]), np.array([1.0, 2.0]), dtype=np.float64),
              gym.spaces.Box(-1, 1, (), np.float32)]
    for space in spaces:
        compact = space_to_dict(space, compact=True)
        assert space_from_dict(compact) == space == space_from_dict(space_to_dict(space))
    assert space_to_dict(spaces[1], compact=True)["low"] == "-inf"
    assert isinstance(space_to_dict(spaces[2], compact=True)["low"], list)  # not uniform
    assert isinstance(space_to_dict(spaces[0])["low"], list)  # the default is unchanged
    for bad in (True, None, "abc", [1, 2]):
        with pytest.raises(DatasetFormatError, match="Box low"):
            space_from_dict({"type": "Box", "shape": [3], "dtype": "float32", "low": bad,
                             "high": 1})
