"""``teacher.npz`` in the original IL-Datasets / stable-baselines layout, never unpickled.

Keys: ``obs`` (T, ...), ``actions`` (T, ...), ``rewards`` (T,), ``episode_returns`` (E,),
``episode_starts`` (T,). Our exports add ``final_obs``, ``terminated``, ``truncated``, ``seeds``
and ``attempts`` (older readers ignore extra keys); imports use them when present.
"""

from __future__ import annotations

import math
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from imitation_datasets.core.atomic import atomic_path
from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.safe_read import open_regular
from imitation_datasets.data.arrays import DatasetArrays
from imitation_datasets.data.loaded import LoadedData, single_split, validate_loaded
from imitation_datasets.data.metadata import our_metadata
from imitation_datasets.data.original import arrays_from_columns, columns_from_arrays
from imitation_datasets.data.schema import OPTIONAL_COLUMNS, ORIGINAL_COLUMNS


def export_npz(arrays: DatasetArrays, path: str | Path) -> Path:
    """Write ``arrays`` as a ``teacher.npz`` (atomically)."""
    path = Path(path)
    columns: dict[str, Any] = columns_from_arrays(arrays)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, **columns)
    return path


EXPANSION_FLOOR = 256 << 20
"""An array of up to this many bytes is read whatever its compression ratio."""
MAX_EXPANSION = 200
"""A larger array may expand at most this many times its compressed size in the zip.

``np.savez`` stores arrays uncompressed (ratio 1); ``np.savez_compressed`` of real observations
stays far below 200. A 3 MB file that inflates to 3 GiB of zeros (ratio 1000) is refused before
anything is decompressed. Raise it (``imitation_datasets.data.npz.MAX_EXPANSION``) for data
that really compresses that well.
"""
READ_KEYS = (*ORIGINAL_COLUMNS, *OPTIONAL_COLUMNS)
"""The keys read; any other member of the archive (``episode_returns``...) is never opened."""


def import_npz(path: str | Path) -> DatasetArrays:
    """Read a ``teacher.npz`` (ours or the original's) without ever unpickling.

    Without ``terminated``/``truncated`` keys (the original layout), every episode's last step is
    marked ``truncated`` (the layout cannot tell them apart); without ``final_obs`` the dataset has
    no final observations.

    Only a regular file is opened. Before any array is decompressed, its ``.npy`` header is read
    and checked: numeric dtype (object arrays would need pickle: refused), declared size equal to
    the zip's uncompressed size, and expansion within :data:`MAX_EXPANSION` (above
    :data:`EXPANSION_FLOOR`). Keys outside :data:`READ_KEYS` are skipped unread.

    Raises:
        DatasetFormatError: one line naming the file and the problem.
    """
    path = Path(path)
    try:
        with open_regular(path) as handle, zipfile.ZipFile(handle) as archive:
            members = _members(archive, path)
            missing = [key for key in ORIGINAL_COLUMNS if key not in members]
            if missing:
                raise DatasetFormatError(f"{path}: missing key(s) {missing}")
            arrays = {key: _read_member(archive, info, path, key)
                      for key, info in members.items() if key in READ_KEYS}
    except DatasetFormatError:
        raise
    except zipfile.BadZipFile as exc:
        raise DatasetFormatError(f"{path}: not an npz (zip) archive ({exc})") from None
    except (OSError, EOFError, KeyError, ValueError, NotImplementedError, RuntimeError,
            zlib.error, struct.error, OverflowError) as exc:
        raise DatasetFormatError(f"{path}: corrupt or truncated npz ({exc})") from None
    return arrays_from_columns(arrays, str(path))


def _members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """``key -> ZipInfo`` of the ``<key>.npy`` members (a duplicated key is refused)."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            continue
        key = info.filename[:-4]
        if key in members:
            raise DatasetFormatError(f"{path}: key {key!r} appears twice; refused")
        members[key] = info
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path,
                 key: str) -> np.ndarray:
    """One array, after checking its header against the zip entry (see :func:`import_npz`)."""
    with archive.open(info) as member:
        version = npformat.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = npformat.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = npformat.read_array_header_2_0(member)
        else:
            raise DatasetFormatError(f"{path}: {key} has .npy format version {version}; "
                                     "only 1.0 and 2.0 are read")
        if dtype.hasobject:
            raise DatasetFormatError(
                f"{path}: {key} holds Python objects, which need pickle to load; refused "
                "(re-save it with plain numeric arrays)")
        if dtype.kind not in "biuf" or dtype.fields is not None:
            raise DatasetFormatError(f"{path}: {key} has dtype {dtype}, not numbers")
        declared = math.prod(shape) * dtype.itemsize
        if member.tell() + declared != info.file_size:
            raise DatasetFormatError(
                f"{path}: {key} declares {shape} {dtype} ({declared} bytes) but its zip entry "
                f"holds {info.file_size - member.tell()} bytes")
        if declared > EXPANSION_FLOOR and declared > MAX_EXPANSION * max(info.compress_size, 1):
            raise DatasetFormatError(
                f"{path}: {key} would expand from {info.compress_size} to {declared} bytes "
                f"(more than {MAX_EXPANSION}x); refused as a decompression bomb")
    with archive.open(info) as member:
        return npformat.read_array(member, allow_pickle=False)


class NpzFile:
    """Storage backend ``"npz"``: a ``teacher.npz`` (the original layout, or ours)."""

    name = "npz"

    def read(self, location: str | Path, *, split: str = "train",
             origin: str | None = None) -> LoadedData:
        """:func:`import_npz`, with the ``metadata.json`` beside it when it describes this file.

        Our collate writes ``teacher.npz`` beside ``metadata.json``; a metadata file that is not
        ours, is unreadable or describes other data is ignored (the npz is read on its own).
        """
        single_split(location, split)
        path = Path(location)
        arrays = import_npz(path)
        metadata = None
        try:
            candidate = our_metadata(path.parent)
        except DatasetFormatError:
            candidate = None
        if candidate is not None:
            try:
                metadata = validate_loaded(LoadedData(arrays, candidate, str(path)),
                                           allow_nonfinite=True).metadata
            except DatasetFormatError:
                metadata = None
        return LoadedData(arrays, metadata, origin or str(path))

    def write(self, data: LoadedData, location: str | Path) -> Path:
        """:func:`export_npz` (metadata is not stored in the npz)."""
        return export_npz(data.arrays, location)
