"""Hostile dataset files, generated here: each is refused with one line naming the file, within
bounded memory and time, and legitimate files still load exactly.

Cases that could hang (FIFOs) or exhaust memory (devices, bombs) run in a child process with a
timeout, an address-space limit and a measured peak RSS, so a regression fails the test instead
of taking the machine down.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import gymnasium as gym
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.metadata import build_metadata, read_metadata
from imitation_datasets.data.npz import export_npz, import_npz
from imitation_datasets.data.parquet import read_parquet, read_verified_metadata, write_parquet
from imitation_datasets.data.schema import space_to_dict
from imitation_datasets.data.sources import load_source
from imitation_datasets.dataset import BaselineDataset

MIB = 1 << 20


# ------------------------------------------------------------------------------ helpers
def cartpole_like(lengths=(5, 7, 4), actions=None, obs_dtype=np.float32) -> DatasetArrays:
    """A small dataset shaped like CartPole (Box(4,) observations, Discrete(2) actions)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total, episodes = int(lengths.sum()), len(lengths)
    rng = np.random.default_rng(0)
    terminated = np.zeros(total, bool)
    terminated[np.cumsum(lengths) - 1] = True
    return DatasetArrays(
        obs=rng.standard_normal((total, 4)).astype(obs_dtype),
        actions=np.arange(total) % 2 if actions is None else np.asarray(actions),
        rewards=np.ones(total), terminated=terminated, truncated=np.zeros(total, bool),
        lengths=lengths, final_obs=rng.standard_normal((episodes, 4)).astype(obs_dtype),
        seeds=np.arange(episodes, dtype=np.int64) + 10, attempts=np.ones(episodes, np.int64))


def metadata_for(arrays: DatasetArrays, obs_space=None, act_space=None) -> dict:
    obs_space = obs_space or gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
    act_space = act_space or gym.spaces.Discrete(2)
    return build_metadata(
        arrays, env={"id": "CartPole-v1", "observation_space": space_to_dict(obs_space),
                     "action_space": space_to_dict(act_space)},
        expert={}, collection={}, acceptance={}, reference={}, creation={})


def write_dataset(path: Path, arrays: DatasetArrays | None = None, **spaces) -> Path:
    arrays = cartpole_like() if arrays is None else arrays
    write_parquet(path, arrays, metadata_for(arrays, **spaces))
    return path


def edit_metadata(path: Path, change) -> None:
    meta = json.loads((path / "metadata.json").read_text())
    change(meta)
    (path / "metadata.json").write_text(json.dumps(meta))


def cli(*args: str) -> tuple[int, str]:
    """Run ``il-datasets`` in-process; returns (exit status, stderr)."""
    import contextlib
    import io

    from imitation_datasets.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(args))
    return status, err.getvalue()


CHILD = """
import json, resource, sys, traceback
import numpy, pyarrow, pyarrow.parquet
pyarrow.set_memory_pool(pyarrow.system_memory_pool())  # no large reservations under the limit
from imitation_datasets.data.sources import load_source
from imitation_datasets.data.npz import import_npz
from imitation_datasets.data.images import ImageColumn
from imitation_datasets.data.parquet import read_verified_metadata

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
base = status("VmHWM")
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (status("VmSize") + {limit}, hard))
results = []
for case in {cases!r}:
    try:
        eval(case)
        results.append("loaded")
    except Exception as exc:
        results.append(type(exc).__name__ + ": " + str(exc))
print(json.dumps({{"results": results, "peak": status("VmHWM") - base}}))
"""


def run_child(cases: list[str], timeout: float = 60, limit: int = 2048 * MIB) -> dict:
    """Evaluate ``cases`` (expressions) in a child process under an address-space limit.

    Returns ``{"results": [...], "peak": bytes}``: each case's outcome (``"loaded"`` or
    ``"ErrorType: message"``) and the growth of the child's peak RSS over all cases.
    """
    code = textwrap.dedent(CHILD).format(cases=cases, limit=limit)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_refused(result: str, *words: str) -> None:
    assert result.startswith("DatasetFormatError: "), result
    assert "\n" not in result
    for word in words:
        assert word in result, (word, result)


def zip_member(archive: zipfile.ZipFile, name: str, header: bytes, zeros: int) -> None:
    """A ``.npy`` member: ``header`` then ``zeros`` zero bytes, written 1 MiB at a time."""
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(header)
        chunk = bytes(MIB)
        for start in range(0, zeros, MIB):
            member.write(chunk[:min(MIB, zeros - start)])


def npy_header(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    import io

    from numpy.lib import format as npformat
    out = io.BytesIO()
    npformat.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False,
                                          "shape": shape})
    return out.getvalue()


def small_npz_members(archive: zipfile.ZipFile, rows: int = 4, skip=()) -> None:
    for name, array in (("obs", np.zeros((rows, 2))), ("actions", np.zeros(rows)),
                        ("rewards", np.zeros(rows)),
                        ("episode_starts", np.eye(1, rows, dtype=bool)[0])):
        if name not in skip:
            with archive.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array)


def png(width: int, height: int, rows: int | None = None) -> bytes:
    """A grayscale PNG of ``width x height`` zeros (its first ``rows`` rows of data only)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    line = bytes(width + 1)
    data = b"".join(compressor.compress(line) for _ in range(height if rows is None else rows))
    data += compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                             0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


# ------------------------------------------------------------------------------ 3. resources
@pytest.fixture
def dataset(tmp_path) -> Path:
    return write_dataset(tmp_path / "ds")


def test_metadata_that_is_dev_zero_or_a_fifo_is_refused_at_once(tmp_path):
    """info and BaselineDataset refuse a metadata.json that is a device or a FIFO (no read)."""
    zero = write_dataset(tmp_path / "zero")
    (zero / "metadata.json").unlink()
    (zero / "metadata.json").symlink_to("/dev/zero")
    fifo = write_dataset(tmp_path / "fifo")
    (fifo / "metadata.json").unlink()
    os.mkfifo(fifo / "metadata.json")
    cases = [f"read_verified_metadata({str(zero)!r})", f"load_source({str(zero)!r})",
             f"read_verified_metadata({str(fifo)!r})", f"load_source({str(fifo)!r})"]
    out = run_child(cases, timeout=60)
    for result, kind in zip(out["results"], ["character device"] * 2 + ["FIFO"] * 2):
        assert_refused(result, "metadata.json", kind)
    assert out["peak"] < 100 * MIB, out
    status, err = cli("info", str(zero))
    assert status == 2 and "metadata.json: a character device" in err and err.count("\n") == 1


def test_data_files_that_are_fifos_or_devices_are_refused(tmp_path):
    parquet = write_dataset(tmp_path / "p")
    (parquet / "steps.parquet").unlink()
    os.mkfifo(parquet / "steps.parquet")
    os.mkfifo(tmp_path / "teacher.npz")
    os.mkfifo(tmp_path / "hub.parquet")
    (tmp_path / "zero.npz").symlink_to("/dev/zero")
    cases = [f"load_source({str(parquet)!r})", f"import_npz({str(tmp_path / 'teacher.npz')!r})",
             f"load_source({str(tmp_path / 'hub.parquet')!r})",
             f"load_source({str(tmp_path / 'zero.npz')!r})"]
    out = run_child(cases, timeout=60)
    for result in out["results"][:3]:
        assert_refused(result, "FIFO")
    assert_refused(out["results"][3], "zero.npz", "character device")
    assert "pickle" not in out["results"][3]


def test_huge_metadata_and_deep_json_are_one_line_errors(dataset):
    (dataset / "metadata.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DatasetFormatError, match="nested too deeply") as info:
        read_metadata(dataset)
    assert "\n" not in str(info.value)
    status, err = cli("info", str(dataset))
    assert status == 2 and "nested too deeply" in err
    with open(dataset / "metadata.json", "wb") as handle:
        handle.truncate(65 * MIB)  # sparse: no disk used
    with pytest.raises(DatasetFormatError, match="limit"):
        read_metadata(dataset)


def test_npz_bombs_are_refused_or_skipped_before_decompressing(tmp_path):
    """300 MiB of zeros in a 0.3 MB npz: refused in a key we read, never opened in one we don't."""
    bomb, unused, liar = (tmp_path / n for n in ("bomb.npz", "unused.npz", "liar.npz"))
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        small_npz_members(archive, skip=("obs",))
        zip_member(archive, "obs.npy", npy_header((300 * MIB // 16, 2)), 300 * MIB)
    with zipfile.ZipFile(unused, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        small_npz_members(archive)
        zip_member(archive, "episode_returns.npy", npy_header((300 * MIB // 8,)), 300 * MIB)
    with zipfile.ZipFile(liar, "w") as archive:  # header says 80 GB, the entry holds 80 bytes
        small_npz_members(archive, skip=("obs",))
        zip_member(archive, "obs.npy", npy_header((10**10,)), 80)
    assert bomb.stat().st_size < 2 * MIB
    out = run_child([f"import_npz({str(p)!r})" for p in (bomb, unused, liar)])
    assert_refused(out["results"][0], "bomb.npz", "obs", "decompression bomb")
    assert out["results"][1] == "loaded"
    assert_refused(out["results"][2], "liar.npz", "obs", "declares")
    assert out["peak"] < 100 * MIB, out


def test_parquet_columns_out_of_proportion_to_the_file_are_refused(tmp_path, monkeypatch):
    """The bound is checked from the footer, before a column is allocated (shown here with a
    lowered bound on a constant column that compresses well)."""
    from imitation_datasets.data import parquet

    arrays = cartpole_like(lengths=(20_000,))
    arrays.obs[:] = 0
    path = write_dataset(tmp_path / "d", arrays)
    monkeypatch.setattr(parquet, "EXPANSION_FLOOR", 0)
    monkeypatch.setattr(parquet, "MAX_EXPANSION", 2)
    with pytest.raises(DatasetFormatError, match=r"steps\.parquet: column 'obs' declares "
                       r"320000 bytes .* decompression bomb"):
        read_parquet(path)


def test_image_bomb_is_refused_from_its_header(tmp_path):
    """A 6000 x 6000 PNG (36 megapixels, a few KB) is refused before it is decoded."""
    bomb = png(6000, 6000, rows=10)
    assert len(bomb) < 10_000
    (tmp_path / "bomb.png").write_bytes(bomb)
    os.mkfifo(tmp_path / "fifo.png")
    cases = [f"ImageColumn(pyarrow.array([{bomb!r}]), None, 'imgs')[0]",
             f"ImageColumn(pyarrow.array(['bomb.png', 'fifo.png']), {str(tmp_path)!r}, 'imgs')[0]",
             f"ImageColumn(pyarrow.array(['bomb.png', 'fifo.png']), {str(tmp_path)!r}, 'imgs')[1]",
             f"ImageColumn(pyarrow.array([{png(8, 6)!r}]), None, 'imgs')[0]"]
    out = run_child(cases)
    assert_refused(out["results"][0], "imgs: row 0", "6000x6000", "limit")
    assert_refused(out["results"][1], "imgs: row 0", "6000x6000")
    assert_refused(out["results"][2], "fifo.png", "FIFO")
    assert out["results"][3] == "loaded"
    assert out["peak"] < 100 * MIB, out


# ------------------------------------------------------------------------------ 5. data = file
def test_episode_lengths_that_contradict_the_step_columns_are_refused(tmp_path):
    """Lengths 499/501 instead of 500/500 (same sum, metadata edited to match) are refused."""
    path = write_dataset(tmp_path / "d", cartpole_like(lengths=(500, 500)))
    episodes = pq.read_table(path / "episodes.parquet")
    lengths = pa.array(np.array([499, 501], np.int64))
    first = pa.array(np.array([0, 499], np.int64))
    episodes = episodes.set_column(episodes.schema.get_field_index("length"), "length", lengths)
    episodes = episodes.set_column(episodes.schema.get_field_index("first_step"), "first_step",
                                   first)
    pq.write_table(episodes, path / "episodes.parquet")
    edit_metadata(path, lambda m: m["episodes"].update(length=[499, 501]))
    with pytest.raises(DatasetFormatError, match=r"steps\.parquet: column 'episode_start' "
                       "disagrees"):
        BaselineDataset(path)


@pytest.mark.parametrize("actions", [[0.5, 1.5], [7, -3]])
def test_discrete_actions_outside_the_space_are_refused(tmp_path, actions):
    arrays = cartpole_like(lengths=(2, 2), actions=actions * 2)
    path = write_dataset(tmp_path / "d", arrays)
    with pytest.raises(DatasetFormatError, match=r"steps\.parquet: action .* is not in "
                       r"Discrete\(2"):
        BaselineDataset(path)


def test_inferred_discrete_space_holds_every_stored_action(tmp_path):
    """Without metadata the space comes from the data: it must contain 7 and -3."""
    export_npz(cartpole_like(lengths=(2, 2), actions=[7, -3, 0, 1]), tmp_path / "t.npz")
    space = BaselineDataset(tmp_path / "t.npz").action_space
    assert space.contains(np.int64(7)) and space.contains(np.int64(-3)), space


def test_flags_other_than_zero_or_one_are_refused(tmp_path):
    arrays = cartpole_like(lengths=(3, 3))
    arrays.terminated = np.array([0, 0, 5, 0, 0, 1])
    path = write_dataset(tmp_path / "d", arrays)
    with pytest.raises(DatasetFormatError, match=r"terminated.*= 5; a flag must be 0 or 1"):
        BaselineDataset(path)
    arrays.terminated = np.array([1, 0, 1, 0, 0, 1], bool)  # set inside an episode
    path = write_dataset(tmp_path / "e", arrays)
    with pytest.raises(DatasetFormatError, match="terminated is set on row 0, inside"):
        BaselineDataset(path)


def test_space_shape_that_does_not_fit_the_data_is_refused(tmp_path):
    """Hub files keep the rows' shape: 4-vectors under a [2, 2] space are refused; beside an npz
    such metadata is not used (the npz's own shape stays)."""
    from imitation_datasets.data.huggingface import write_hub_folder

    arrays = cartpole_like()
    square = gym.spaces.Box(-np.inf, np.inf, (2, 2), np.float32)
    folder = write_hub_folder(arrays, tmp_path / "hub", metadata=metadata_for(arrays, square))
    with pytest.raises(DatasetFormatError, match=r"obs rows are shaped \(4,\), the metadata's "
                       r"space is \(2, 2\)"):
        BaselineDataset(folder)
    export_npz(arrays, tmp_path / "hub" / "teacher.npz")
    data = BaselineDataset(tmp_path / "hub" / "teacher.npz")
    assert data.observation_space.shape == (4,) and data.metadata is None


def test_hub_metadata_dtype_that_would_zero_the_data_is_refused(tmp_path):
    from imitation_datasets.data.huggingface import write_hub_folder

    arrays = cartpole_like()
    as_bytes = gym.spaces.Box(0, 255, (4,), np.uint8)
    folder = write_hub_folder(arrays, tmp_path / "hub", metadata=metadata_for(arrays, as_bytes))
    with pytest.raises(DatasetFormatError, match="obs holds .* which uint8 .* cannot represent"):
        BaselineDataset(folder)
    right = write_hub_folder(arrays, tmp_path / "ok", metadata=metadata_for(arrays))
    loaded = BaselineDataset(right)
    assert loaded.arrays.obs.dtype == np.float32
    np.testing.assert_array_equal(loaded.arrays.obs, arrays.obs)


@pytest.mark.parametrize("lie", [
    ("total_steps", lambda m: m.update(total_steps=m["total_steps"] + 1)),
    ("episodes.return", lambda m: m["episodes"].update(
        **{"return": [r + 1 for r in m["episodes"]["return"]]})),
    ("returns.mean", lambda m: m["returns"].update(mean=1e6)),
    ("episodes.seed", lambda m: m["episodes"].update(seed=[1, 2, 3])),
    ("episodes.terminated", lambda m: m["episodes"].update(terminated=0)),
])
def test_metadata_that_lies_is_refused_by_the_loader_and_by_info(dataset, lie):
    field, change = lie
    edit_metadata(dataset, change)
    with pytest.raises(DatasetFormatError, match=rf"metadata.json: metadata .*{field}"):
        read_parquet(dataset)
    status, err = cli("info", str(dataset))
    assert status == 2 and field in err and "metadata.json" in err


def test_returns_column_that_lies_is_refused(dataset):
    episodes = pq.read_table(dataset / "episodes.parquet")
    index = episodes.schema.get_field_index("return")
    episodes = episodes.set_column(index, "return", pa.array(np.array([1.0, 2.0, 3.0])))
    pq.write_table(episodes, dataset / "episodes.parquet")
    with pytest.raises(DatasetFormatError, match="column 'return' disagrees"):
        read_verified_metadata(dataset)


@pytest.mark.parametrize("where", ["obs", "rewards", "final_obs"])
def test_nonfinite_values_are_refused_unless_allowed(tmp_path, where):
    arrays = cartpole_like()
    getattr(arrays, where)[2] = np.nan if where != "rewards" else np.inf
    path = write_dataset(tmp_path / "d", arrays)
    with pytest.raises(DatasetFormatError, match=rf"{where} row 2 holds NaN or infinity.*"
                       "allow_nonfinite=True"):
        BaselineDataset(path)
    data = BaselineDataset(path, allow_nonfinite=True)
    assert not np.isfinite(getattr(data.arrays, where)[2]).all()
    export_npz(arrays, tmp_path / "t.npz")
    with pytest.raises(DatasetFormatError, match="NaN or infinity"):
        BaselineDataset(tmp_path / "t.npz")
    with pytest.raises(DatasetFormatError, match="NaN or infinity"):
        BaselineDataset.from_arrays(arrays)


# ------------------------------------------------------------------------------ 6. messages
@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(schema_version="1"), r"schema_version '1' \(str\) is not supported; "
     "this library reads the integer 1"),
    (lambda m: m.update(schema_version=1.0), r"schema_version 1.0 \(float\) is not supported"),
    (lambda m: m.update(schema_version=True), r"schema_version True \(bool\)"),
    (lambda m: m["episodes"].update(count="3"), "field episodes.count must be an integer"),
    (lambda m: m.update(total_steps=None), "field total_steps must be an integer"),
    (lambda m: m.update(returns=[]), "field returns must be an object"),
    (lambda m: m["returns"].update(mean={}), "field returns.mean must be a number"),
    (lambda m: m["episodes"].update(length="5"), "field episodes.length must be a list"),
    (lambda m: m["episodes"].update(seed=[1, "2", 3]), r"field episodes.seed\[1\]"),
    (lambda m: m["env"]["observation_space"].update(shape="4"),
     "field env.observation_space: Box shape must be a list"),
    (lambda m: m["env"]["observation_space"].update(dtype="object"),
     "field env.observation_space dtype: 'object' is not a numeric dtype"),
    (lambda m: m["env"]["action_space"].update(n=-1), "field env.action_space: Discrete needs"),
    (lambda m: m["env"].update(action_space=[1]), "field env.action_space: a space description"),
])
def test_malformed_metadata_fields_are_named(dataset, change, message):
    edit_metadata(dataset, change)
    with pytest.raises(DatasetFormatError, match=message) as info:
        read_metadata(dataset)
    assert "\n" not in str(info.value) and "metadata.json" in str(info.value)
    status, err = cli("info", str(dataset))
    assert status == 2 and err.count("\n") == 1, err


def test_npz_errors_name_the_real_problem(tmp_path):
    (tmp_path / "text.npz").write_bytes(b"not a zip at all" * 10)
    with pytest.raises(DatasetFormatError, match="text.npz: not an npz") as info:
        import_npz(tmp_path / "text.npz")
    assert "pickle" not in str(info.value)
    np.save(tmp_path / "plain.npy", np.zeros(3))
    os.replace(tmp_path / "plain.npy", tmp_path / "plain.npz")
    with pytest.raises(DatasetFormatError, match="plain.npz: not an npz"):
        import_npz(tmp_path / "plain.npz")


# ------------------------------------------------------------------------------ still exact
def test_legitimate_datasets_load_exactly_through_every_reader(tmp_path):
    from imitation_datasets.data.huggingface import write_hub_folder

    arrays = cartpole_like()
    path = write_dataset(tmp_path / "d", arrays)
    loaded, meta = read_parquet(path)
    assert loaded.equals(arrays)
    assert read_verified_metadata(path) == meta
    assert load_source(path).arrays.equals(arrays)
    assert import_npz(export_npz(arrays, tmp_path / "t.npz")).equals(arrays)
    hub = load_source(write_hub_folder(arrays, tmp_path / "hub", metadata=meta))
    assert hub.arrays.equals(arrays)
