"""Property-based fuzzing of the dataset readers (npz, Parquet, metadata.json).

Arbitrary bytes, and valid files mutated byte-wise or structurally, must either load or raise
the library's one-line ``DatasetFormatError`` (a ``ValueError``): never another exception
type, never a traceback from deep inside a dependency. Derandomized, with few examples, so
CI is deterministic and fast; each example's inputs are small, so memory stays bounded.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_files import cartpole_like, write_dataset

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.metadata import read_metadata
from imitation_datasets.data.npz import export_npz, import_npz
from imitation_datasets.data.parquet import read_parquet, read_verified_metadata
from imitation_datasets.data.sources import load_source

FUZZ = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def valid(workdir):
    """Bytes of a valid dataset's files (Parquet, metadata, stored and compressed npz)."""
    arrays = cartpole_like()
    source = write_dataset(workdir / "valid", arrays)
    export_npz(arrays, workdir / "stored.npz")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, obs=arrays.obs, actions=arrays.actions, rewards=arrays.rewards,
                        episode_starts=arrays.episode_starts)
    files = {name: (source / name).read_bytes()
             for name in ("steps.parquet", "episodes.parquet", "metadata.json")}
    files["stored.npz"] = (workdir / "stored.npz").read_bytes()
    files["compressed.npz"] = buffer.getvalue()
    return files


def outcome(load, *args):
    """Run a reader: its result, or the DatasetFormatError it raised (anything else fails)."""
    try:
        return load(*args)
    except DatasetFormatError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return exc


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few bytes overwritten, a slice deleted or inserted, or truncated."""
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["overwrite", "delete", "insert", "truncate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "overwrite" and data:
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(chunk)] = chunk
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:]
    return bytes(data)


def json_values():
    scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | \
        st.floats(allow_nan=False) | st.text(max_size=8) | st.sampled_from(["nan", "inf"])
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=8)


# ------------------------------------------------------------------------------ npz
@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_npz(workdir, data):
    path = workdir / "arbitrary.npz"
    path.write_bytes(data)
    outcome(import_npz, path)


@FUZZ
@given(choice=st.sampled_from(["stored.npz", "compressed.npz"]), data=st.data())
def test_mutated_npz(workdir, valid, choice, data):
    path = workdir / "mutated.npz"
    path.write_bytes(data.draw(mutated(valid[choice])))
    result = outcome(load_source, path)
    if not isinstance(result, Exception):
        arrays = result.arrays
        assert len(arrays.obs) == len(arrays.actions) == len(arrays.rewards) == arrays.n_steps


# ------------------------------------------------------------------------------ metadata
def fresh_copy(workdir: Path, valid: dict[str, bytes], name: str) -> Path:
    folder = workdir / name
    folder.mkdir(exist_ok=True)
    for file, content in valid.items():
        if not file.endswith(".npz"):
            (folder / file).write_bytes(content)
    return folder


@FUZZ
@given(name=st.sampled_from(["metadata.json", "steps.parquet", "episodes.parquet"]),
       data=st.binary(max_size=4096))
def test_arbitrary_bytes_as_a_dataset_file(workdir, valid, name, data):
    """Metadata, steps or episodes replaced by arbitrary bytes."""
    folder = fresh_copy(workdir, valid, "bytes")
    (folder / name).write_bytes(data)
    outcome(read_metadata, folder)
    outcome(read_verified_metadata, folder)
    outcome(load_source, folder)


@FUZZ
@given(data=st.data())
def test_structurally_mutated_metadata(workdir, valid, data):
    """Replace or delete one field, at any depth, by arbitrary JSON."""
    folder = fresh_copy(workdir, valid, "meta-struct")
    meta = json.loads(valid["metadata.json"])
    node = meta
    while True:
        key = data.draw(st.sampled_from(sorted(node)) if isinstance(node, dict)
                        else st.integers(0, len(node) - 1))
        child = node[key]
        if not isinstance(child, dict | list) or not child or data.draw(st.booleans()):
            break
        node = child
    if isinstance(node, dict) and data.draw(st.booleans()):
        del node[key]
    else:
        node[key] = data.draw(json_values())
    (folder / "metadata.json").write_text(json.dumps(meta))
    result = outcome(read_parquet, folder)
    outcome(read_verified_metadata, folder)
    if not isinstance(result, Exception):
        outcome(load_source, folder)


# ------------------------------------------------------------------------------ Parquet
@FUZZ
@given(name=st.sampled_from(["steps.parquet", "episodes.parquet"]), data=st.data())
def test_mutated_parquet(workdir, valid, name, data):
    folder = fresh_copy(workdir, valid, "parquet")
    (folder / name).write_bytes(data.draw(mutated(valid[name])))
    outcome(read_verified_metadata, folder)
    result = outcome(load_source, folder)
    if not isinstance(result, Exception):
        assert result.arrays.n_steps == sum(json.loads(valid["metadata.json"])["episodes"]
                                            ["length"])
