"""BaselineDataset family: splits, transitions inside episodes, batches, images, bad input."""

import io
import json
import shutil
import time
import tracemalloc

import numpy as np
import pytest
import torch
from conftest import make_dataset
from torch.utils.data import DataLoader

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.npz import export_npz
from imitation_datasets.data.parquet import read_parquet
from imitation_datasets.dataset import (
    BaselineDataset,
    IRLDataset,
    SequenceDataset,
    TransitionBatchSampler,
)

EPISODES = 12


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Random-action CartPole: short episodes of varied length, most of them terminated."""
    path = tmp_path_factory.mktemp("random")
    return make_dataset(path, EPISODES, random=True, name="rnd")


@pytest.fixture(scope="module")
def arrays(dataset):
    return read_parquet(dataset)[0]


def expected_transitions(arrays: DatasetArrays, final: bool):
    """(s, a, s') built the slow, obvious way, episode by episode."""
    states, actions, following = [], [], []
    for e, (start, length) in enumerate(zip(arrays.starts, arrays.lengths)):
        obs = arrays.obs[start:start + length]
        if final:
            obs_next = np.concatenate([obs[1:], arrays.final_obs[e][None]])
            take = length
        else:
            obs_next = obs[1:]
            take = length - 1
        states.append(obs[:take])
        actions.append(arrays.actions[start:start + take])
        following.append(obs_next[:take])
    return np.concatenate(states), np.concatenate(actions), np.concatenate(following)


# ------------------------------------------------------------------------------ splits
def test_paper_snippet_train_and_eval_split_by_episodes(dataset, arrays):
    train = BaselineDataset(dataset, n_episodes=5)
    evaluation = BaselineDataset(dataset, n_episodes=5, split="eval")
    assert train.episodes == range(0, 5) and evaluation.episodes == range(5, EPISODES)
    assert len(train) == arrays.lengths[:5].sum()
    assert len(evaluation) == arrays.lengths[5:].sum()
    np.testing.assert_array_equal(train.episode_seeds, arrays.seeds[:5])
    np.testing.assert_array_equal(evaluation.episode_seeds, arrays.seeds[5:])
    assert not set(train.episode_seeds) & set(evaluation.episode_seeds)
    everything = BaselineDataset(dataset)
    assert everything.episodes == range(EPISODES) and len(everything) == arrays.n_steps
    assert BaselineDataset(dataset, n_episodes=EPISODES).episodes == range(EPISODES)


@pytest.mark.parametrize("n_episodes", [None, 0, -3, EPISODES, EPISODES + 1])
def test_eval_split_never_falls_back_to_training_data(dataset, n_episodes):
    with pytest.raises(ValueError, match="split='eval'"):
        BaselineDataset(dataset, split="eval", n_episodes=n_episodes)


@pytest.mark.parametrize("n_episodes", [0, -1, EPISODES + 1])
def test_train_split_refuses_impossible_counts(dataset, n_episodes):
    with pytest.raises(ValueError, match=f"has {EPISODES} episodes"):
        BaselineDataset(dataset, n_episodes=n_episodes)


def test_unknown_split_and_bad_types_are_refused(dataset):
    with pytest.raises(ValueError, match="unknown split 'test'"):
        BaselineDataset(dataset, split="test", n_episodes=3)
    with pytest.raises(TypeError, match="n_episodes"):
        BaselineDataset(dataset, n_episodes=2.5)
    with pytest.raises(ValueError, match="unknown source"):
        BaselineDataset(dataset, source="ftp")


def test_split_attributes(dataset, arrays):
    train = BaselineDataset(dataset, n_episodes=4)
    assert train.num_episodes == 4 and train.total_episodes == EPISODES
    np.testing.assert_array_equal(train.episode_lengths, arrays.lengths[:4])
    np.testing.assert_allclose(train.episode_returns, arrays.returns[:4])
    assert train.average_reward == pytest.approx(arrays.returns[:4].mean())
    assert train.metadata["episodes"]["count"] == 4
    assert train.metadata["selection"] == {"split": "train", "episodes": [0, 4], "of": EPISODES}
    assert train.source_metadata["episodes"]["count"] == EPISODES
    assert train.observation_space.shape == (4,) and train.action_space.n == 2
    assert train.observation_shape == (4,) and train.action_shape == ()
    assert train.discrete_actions and train.has_final_obs


# ------------------------------------------------------------------------------ transitions
def test_transitions_never_cross_episodes_and_use_the_final_observation(dataset, arrays):
    data = BaselineDataset(dataset)
    states, actions, following = data[:]
    s, a, n = expected_transitions(arrays, final=True)
    np.testing.assert_array_equal(states.numpy(), s)
    np.testing.assert_array_equal(actions.numpy(), a[:, None])  # discrete: (1,) per item
    np.testing.assert_array_equal(following.numpy(), n)
    for i in (0, 1, int(arrays.lengths[0]) - 1, int(arrays.lengths[0]), len(data) - 1, -1):
        item = data[i]
        batch = data[[i]]
        for x, y in zip(item, batch):
            assert torch.equal(x, y[0])


def test_original_layout_drops_each_episodes_last_step(dataset, arrays, tmp_path):
    np.savez(tmp_path / "orig.npz", obs=arrays.obs, actions=arrays.actions,
             rewards=arrays.rewards, episode_returns=arrays.returns,
             episode_starts=arrays.episode_starts)
    data = BaselineDataset(tmp_path / "orig.npz")
    assert not data.has_final_obs
    assert len(data) == arrays.n_steps - arrays.n_episodes
    s, a, n = expected_transitions(arrays, final=False)
    states, actions, following = data[np.arange(len(data))]
    np.testing.assert_array_equal(states.numpy(), s)
    np.testing.assert_array_equal(actions.numpy(), a[:, None])
    np.testing.assert_array_equal(following.numpy(), n)
    assert data.average_reward == pytest.approx(arrays.returns.mean())
    assert data.metadata is None and data.action_space.n == 2
    evaluation = BaselineDataset(tmp_path / "orig.npz", n_episodes=8, split="eval")
    assert len(evaluation) == arrays.lengths[8:].sum() - 4


def test_collated_teacher_npz_is_the_original_layout_and_the_folder_keeps_final_obs(dataset,
                                                                                    arrays):
    data = BaselineDataset(dataset / "teacher.npz")  # 1.0.0's keys only: last steps dropped
    assert not data.has_final_obs and len(data) == arrays.n_steps - arrays.n_episodes
    folder = BaselineDataset(dataset)
    assert folder.has_final_obs and len(folder) == arrays.n_steps
    assert folder.metadata is not None and folder.metadata["total_steps"] == arrays.n_steps


def test_one_step_episodes_without_final_observation(tmp_path):
    np.savez(tmp_path / "t.npz", obs=np.arange(5.0)[:, None], actions=np.zeros(5, np.int64),
             rewards=np.ones(5), episode_starts=np.array([1, 1, 0, 1, 1]))
    data = BaselineDataset(tmp_path / "t.npz")
    assert len(data) == 1 and data[0][0].item() == 1.0 and data[0][2].item() == 2.0
    np.savez(tmp_path / "u.npz", obs=np.arange(2.0)[:, None], actions=np.zeros(2, np.int64),
             rewards=np.ones(2), episode_starts=np.array([1, 1]))
    with pytest.raises(ValueError, match="no transitions"):
        BaselineDataset(tmp_path / "u.npz")


def test_tensors_are_views_of_the_loaded_arrays(dataset):
    data = BaselineDataset(dataset, n_episodes=6, split="eval")
    assert np.shares_memory(data.states.numpy(), data.arrays.obs)
    assert np.shares_memory(data.actions.numpy(), data.arrays.actions)
    whole = BaselineDataset(dataset)
    assert data.states.numpy().base is not None
    assert np.array_equal(data.states.numpy(), whole.states.numpy()[-len(data.states):])


def test_irl_dataset_items_are_in_the_original_order_done_then_reward(dataset, arrays):
    """1.0.0's order (s, a, s', done, r): unpacking five values never swaps reward and done."""
    data = IRLDataset(dataset, n_episodes=3)
    s, a, n, done, r = data[:]
    rows = int(arrays.lengths[:3].sum())
    np.testing.assert_allclose(r.numpy(), arrays.rewards[:rows].astype(np.float32))
    ends = np.cumsum(arrays.lengths[:3]) - 1
    np.testing.assert_array_equal(np.flatnonzero(done.numpy()), ends)
    assert r.dtype == torch.float32 and done.dtype == torch.bool
    last = int(arrays.lengths[0]) - 1
    assert bool(data[last][3]) and not bool(data[last - 1][3])
    assert float(data[last][4]) == pytest.approx(arrays.rewards[last])
    np.testing.assert_array_equal(data.terminated[:rows], arrays.terminated[:rows])
    assert len(data[0]) == 5


def test_sequence_dataset_windows_stay_inside_episodes(dataset, arrays):
    length, stride = 8, 3
    data = SequenceDataset(dataset, sequence_length=length, stride=stride)
    assert len(data) == sum(-(-int(n) // stride) for n in arrays.lengths)
    states, actions, following, mask = data[:]
    assert states.shape == (len(data), length, 4) and mask.shape == (len(data), length)
    s, a, n = expected_transitions(arrays, final=True)
    w = 0
    for start, count in zip(arrays.starts, arrays.lengths):
        for offset in range(0, int(count), stride):
            valid = min(length, int(count) - offset)
            assert mask[w].sum() == valid and bool(mask[w, :valid].all())
            rows = slice(int(start) + offset, int(start) + offset + valid)
            np.testing.assert_array_equal(states[w, :valid].numpy(), s[rows])
            np.testing.assert_array_equal(following[w, :valid].numpy(), n[rows])
            np.testing.assert_array_equal(actions[w, :valid].numpy(), a[rows])
            assert not states[w, valid:].any() and not following[w, valid:].any()
            w += 1
    one = data[3]
    assert len(one) == 4 and one[0].shape == (length, 4)
    with pytest.raises(ValueError, match="sequence_length"):
        SequenceDataset(dataset, sequence_length=0)


# ------------------------------------------------------------------------------ batches
def test_dataloader_keeps_working(dataset):
    data = BaselineDataset(dataset, n_episodes=6)
    loader = DataLoader(data, batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    seen = 0
    for states, actions, following in loader:
        assert states.shape[1:] == (4,) and following.shape == states.shape
        assert actions.dtype == torch.int64
        seen += len(states)
    assert seen == len(data)


def test_batches_are_seeded_shuffled_and_cover_each_transition_once(dataset):
    data = BaselineDataset(dataset)
    first = [b[1].clone() for b in data.batches(64, seed=3)]
    again = [b[1].clone() for b in data.batches(64, seed=3)]
    other = [b[1].clone() for b in data.batches(64, seed=4)]
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    assert not all(torch.equal(x, y) for x, y in zip(first, other))
    loader = data.batches(64, seed=3)
    index = torch.cat(list(loader.sampler))
    assert sorted(index.tolist()) == list(range(len(data)))
    epochs = [torch.cat(list(loader.sampler)) for _ in range(2)]
    assert not torch.equal(epochs[0], epochs[1])  # a new permutation each epoch
    assert len(data.batches(64, drop_last=True)) == len(data) // 64
    ordered = next(iter(data.batches(len(data), shuffle=False)))
    full = data[:]
    assert all(torch.equal(x, y) for x, y in zip(ordered, full))


def test_batch_sampler_feeds_a_dataloader(dataset):
    data = BaselineDataset(dataset)
    sampler = TransitionBatchSampler(len(data), 50, seed=0)
    loader = DataLoader(data, sampler=sampler, batch_size=None)
    sizes = [len(states) for states, _, _ in loader]
    assert sum(sizes) == len(data) and max(sizes) == 50
    with pytest.raises(ValueError, match="seed"):
        TransitionBatchSampler(10, 2, seed=None)


# ------------------------------------------------------------------------------ images
def _image_arrays(episodes: int = 3, length: int = 4) -> DatasetArrays:
    rng = np.random.default_rng(0)
    total = episodes * length
    return DatasetArrays(
        obs=rng.integers(0, 255, (total, 6, 5, 3), dtype=np.uint8),
        actions=rng.integers(0, 3, total), rewards=np.ones(total),
        terminated=np.zeros(total, bool),
        truncated=np.tile([False] * (length - 1) + [True], episodes),
        lengths=np.full(episodes, length), final_obs=rng.integers(0, 255, (episodes, 6, 5, 3),
                                                                  dtype=np.uint8),
        seeds=np.arange(episodes), attempts=np.ones(episodes, np.int64))


def test_uint8_image_observations_go_through_transform():
    arrays = _image_arrays()
    data = BaselineDataset.from_arrays(arrays, transform=lambda x: x.permute(2, 0, 1).float() / 255)
    s, a, n = data[3]
    assert s.shape == (3, 6, 5) and s.dtype == torch.float32
    torch.testing.assert_close(n, torch.from_numpy(arrays.final_obs[0]).permute(2, 0, 1) / 255)
    states, _, following = data[[0, 3, 5]]
    assert states.shape == (3, 3, 6, 5)
    assert data.observation_space.dtype == np.uint8
    raw = BaselineDataset.from_arrays(arrays)
    assert raw[0][0].dtype == torch.uint8 and raw[0][0].shape == (6, 5, 3)


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_original_image_columns_load_lazily(tmp_path):
    pytest.importorskip("PIL")
    import pyarrow as pa
    import pyarrow.parquet as pq

    images = _image_arrays(2, 3).obs
    starts = [True, False, False, True, False, False]
    pq.write_table(pa.table({"obs": [_png(i) for i in images], "actions": [0, 1, 2, 0, 1, 2],
                             "rewards": [1.0] * 6, "episode_starts": starts}),
                   tmp_path / "bytes.parquet")
    data = BaselineDataset(tmp_path / "bytes.parquet", transform=lambda x: x.float())
    assert len(data) == 4
    s, a, n = data[0]
    np.testing.assert_array_equal(s.numpy(), images[0]) and np.testing.assert_array_equal(
        n.numpy(), images[1])
    assert data[2][0].dtype == torch.float32
    np.testing.assert_array_equal(data[2][2].numpy(), images[4])  # episode 2: rows 3 -> 4
    (tmp_path / "frames").mkdir()
    for i, image in enumerate(images):
        (tmp_path / "frames" / f"{i}.png").write_bytes(_png(image))
    with open(tmp_path / "paths.jsonl", "w") as handle:
        for i in range(6):
            handle.write(json.dumps({"obs": f"frames/{i}.png", "actions": i % 3, "rewards": 1.0,
                                     "episode_starts": starts[i]}) + "\n")
    paths = BaselineDataset(tmp_path / "paths.jsonl")
    np.testing.assert_array_equal(paths[3][2].numpy(), images[5])
    batch = paths[[0, 1]]
    assert batch[0].shape == (2, 6, 5, 3)
    with open(tmp_path / "escape.jsonl", "w") as handle:
        for i in range(2):
            handle.write(json.dumps({"obs": "../../etc/passwd", "actions": 0, "rewards": 0.0,
                                     "episode_starts": i == 0}) + "\n")
    with pytest.raises(DatasetFormatError, match="leaves the dataset folder"):
        BaselineDataset(tmp_path / "escape.jsonl")[0]


# ------------------------------------------------------------------------------ bad input
def test_pickled_npz_is_refused_and_nothing_runs(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, obs=np.array([{"a": 1}, {"b": 2}], dtype=object), actions=np.zeros(2),
             rewards=np.zeros(2), episode_starts=np.ones(2))
    with pytest.raises(DatasetFormatError, match=r"evil\.npz.*pickle"):
        BaselineDataset(path)


def test_corrupt_parquet_dataset_is_refused_with_the_file_name(dataset, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(dataset, copy)
    data = (copy / "steps.parquet").read_bytes()
    (copy / "steps.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFormatError, match="steps.parquet"):
        BaselineDataset(copy)
    (copy / "steps.parquet").write_bytes(b"PAR1" + b"\0" * 100)
    with pytest.raises(DatasetFormatError, match="steps.parquet: corrupt"):
        BaselineDataset(copy)
    (copy / "steps.parquet").unlink()
    (copy / "metadata.json").unlink()
    with pytest.raises(DatasetFormatError, match="episodes.parquet"):
        BaselineDataset(copy)


def test_hub_files_with_bad_content_are_refused(tmp_path):
    def jsonl(name, rows):
        with open(tmp_path / name, "w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        return tmp_path / name

    row = {"obs": [0.0, 1.0], "actions": 0, "rewards": 1.0, "episode_starts": True}
    missing = r"missing\.jsonl.*missing column\(s\) \['rewards'"
    with pytest.raises(DatasetFormatError, match=missing):
        BaselineDataset(jsonl("missing.jsonl", [{k: v for k, v in row.items() if k != "rewards"}]))
    ragged = [row, {**row, "obs": [0.0, 1.0, 2.0], "episode_starts": False}]
    with pytest.raises(DatasetFormatError, match=r"ragged\.jsonl.*ragged observations"):
        BaselineDataset(jsonl("ragged.jsonl", ragged))
    with pytest.raises(DatasetFormatError, match=r"nulls\.jsonl.*missing values"):
        BaselineDataset(jsonl("nulls.jsonl", [row, {**row, "rewards": None}]))
    with pytest.raises(DatasetFormatError, match=r"start\.jsonl.*episode_starts\[0\]"):
        BaselineDataset(jsonl("start.jsonl", [{**row, "episode_starts": False}]))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(DatasetFormatError, match="empty.jsonl"):
        BaselineDataset(tmp_path / "empty.jsonl")
    (tmp_path / "garbage.jsonl").write_text("{not json\n")
    with pytest.raises(DatasetFormatError, match=r"garbage\.jsonl: corrupt"):
        BaselineDataset(tmp_path / "garbage.jsonl")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DatasetFormatError, match="unsupported file type"):
        BaselineDataset(tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError, match="source='hf'"):
        BaselineDataset("someone/not-a-folder")


def test_mismatched_npz_lengths_are_refused(tmp_path):
    np.savez(tmp_path / "t.npz", obs=np.zeros((3, 2)), actions=np.zeros(2), rewards=np.zeros(3),
             episode_starts=np.array([1, 0, 0]))
    with pytest.raises(DatasetFormatError, match=r"t\.npz: actions has 2 rows"):
        BaselineDataset(tmp_path / "t.npz")


# ------------------------------------------------------------------------------ complexity
def _synthetic(episodes: int, length: int = 100) -> DatasetArrays:
    total = episodes * length
    return DatasetArrays(
        obs=np.ones((total, 8), np.float32), actions=np.zeros((total, 2), np.float32),
        rewards=np.ones(total), terminated=np.zeros(total, bool), truncated=np.zeros(total, bool),
        lengths=np.full(episodes, length), final_obs=np.zeros((episodes, 8), np.float32),
        seeds=np.arange(episodes), attempts=np.ones(episodes, np.int64))


def test_loading_allocates_nothing_per_step():
    """Building the dataset over arrays in memory copies no step data (zero-copy, O(E) index)."""
    arrays = _synthetic(500, length=400)
    BaselineDataset.from_arrays(_synthetic(2))  # first-call allocations (imports, caches)
    tracemalloc.start()
    data = BaselineDataset.from_arrays(arrays, split="eval", n_episodes=100)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # One int64 per step would be 8 bytes/step; per-episode offsets are ~0.4 bytes/step here.
    assert peak < 2 * arrays.n_steps, peak
    assert len(data) == 400 * 400


def test_parquet_loading_peaks_near_the_arrays_size(tmp_path):
    """read_parquet streams each column into its one array: no full-size temporary copies."""
    from imitation_datasets.data.parquet import write_parquet

    arrays = _synthetic(400)
    metadata = json.loads(_metadata_for(arrays))
    write_parquet(tmp_path / "d", arrays, metadata)
    tracemalloc.start()
    loaded, _ = read_parquet(tmp_path / "d")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(getattr(loaded, k).nbytes for k in ("obs", "actions", "rewards", "terminated",
                                                   "truncated"))
    assert loaded.equals(arrays)
    assert peak < 1.2 * size, (peak, size)


def _metadata_for(arrays: DatasetArrays) -> str:
    import gymnasium as gym

    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.data.schema import space_to_dict

    meta = build_metadata(
        arrays, env={"id": "X-v0", "observation_space": space_to_dict(
            gym.spaces.Box(-1, 1, (8,), np.float32)), "action_space": space_to_dict(
            gym.spaces.Box(-1, 1, (2,), np.float32))},
        expert={}, collection={}, acceptance={}, reference={}, creation={})
    return json.dumps(meta)


def test_batches_gather_whole_batches_and_grow_linearly(monkeypatch):
    data = BaselineDataset.from_arrays(_synthetic(50))
    calls = {"item": 0, "gather": 0}
    item, gather = BaselineDataset.item, BaselineDataset.gather

    def counted(name, function):
        def wrapper(self, *args):
            calls[name] += 1
            return function(self, *args)
        return wrapper

    monkeypatch.setattr(BaselineDataset, "item", counted("item", item))
    monkeypatch.setattr(BaselineDataset, "gather", counted("gather", gather))
    assert sum(len(b[0]) for b in data.batches(256, seed=0)) == len(data)
    assert calls == {"item": 0, "gather": -(-len(data) // 256)}
    monkeypatch.undo()

    def epoch_cost(episodes):
        data = BaselineDataset.from_arrays(_synthetic(episodes))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _batch in data.batches(512, seed=0):
                pass
            best = min(best, time.perf_counter() - start)
        return best

    small, large = epoch_cost(400), epoch_cost(1600)
    assert large / small < 12, (small, large)  # linear ~4, quadratic ~16


def test_metadata_without_spaces_takes_shapes_from_the_files(tmp_path):
    """A dataset collated outside the Controller has no env description: shapes come from data."""
    from imitation_datasets.data.metadata import build_metadata
    from imitation_datasets.data.parquet import write_parquet

    arrays = _synthetic(3, length=5)
    metadata = build_metadata(arrays, env={}, expert={}, collection={}, acceptance={},
                              reference={}, creation={})
    write_parquet(tmp_path / "d", arrays, metadata)
    data = BaselineDataset(tmp_path / "d")
    assert data.arrays.equals(arrays) and data.observation_space.shape == (8,)
    assert data.action_space.shape == (2,) and not data.discrete_actions
    assert torch.equal(data[torch.tensor(2)][0], data[2][0])


def test_heuristic_dataset_with_full_episodes(tmp_path):
    path = make_dataset(tmp_path, 2, threads=1, name="h")
    arrays, _ = read_parquet(path)
    data = BaselineDataset(path)
    assert len(data) == arrays.n_steps
    export_npz(arrays, tmp_path / "copy.npz")
    assert len(BaselineDataset(tmp_path / "copy.npz")) == arrays.n_steps


def test_image_paths_inside_a_hub_cache_snapshot_load(tmp_path):
    """Hub downloads are symlinks into the repo's blobs: that is inside, not an escape."""
    pytest.importorskip("PIL")
    images = _image_arrays(1, 2).obs
    repo = tmp_path / "datasets--org--frames"
    snapshot = repo / "snapshots" / "abc123"
    (repo / "blobs").mkdir(parents=True)
    (snapshot / "frames").mkdir(parents=True)
    for i, image in enumerate(images):
        (repo / "blobs" / f"blob{i}").write_bytes(_png(image))
        (snapshot / "frames" / f"{i}.png").symlink_to(f"../../../blobs/blob{i}")
    rows = [{"obs": f"frames/{i}.png", "actions": 0, "rewards": 1.0, "episode_starts": i == 0}
            for i in range(2)]
    (repo / "blobs" / "rows").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (snapshot / "data.jsonl").symlink_to("../../blobs/rows")
    data = BaselineDataset(snapshot / "data.jsonl")
    np.testing.assert_array_equal(data[0][2].numpy(), images[1])
    outside = tmp_path / "secret.png"
    outside.write_bytes(_png(images[0]))
    (snapshot / "frames" / "0.png").unlink()
    (snapshot / "frames" / "0.png").symlink_to(outside)
    with pytest.raises(DatasetFormatError, match="leaves the dataset folder"):
        BaselineDataset(snapshot / "data.jsonl")[0]
