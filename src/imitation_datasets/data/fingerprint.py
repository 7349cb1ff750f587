"""Content fingerprints: one sha256 for what a dataset holds, whatever file format holds it.

File hashes change when a Parquet writer records another library version in its footer; the
content fingerprint hashes the decoded arrays (name, dtype, shape and little-endian bytes of each
field, in a fixed order), so it identifies the data itself: the same fingerprint from a Parquet
folder, a ``teacher.npz`` with final observations, or a hub copy.
"""

from __future__ import annotations

import hashlib

import numpy as np

from imitation_datasets.data.arrays import DatasetArrays

FIELDS = ("obs", "actions", "rewards", "terminated", "truncated", "lengths", "final_obs",
          "seeds", "attempts")


def content_fingerprint(arrays: DatasetArrays) -> str:
    """Hex sha256 of every field of ``arrays`` (see the module docstring)."""
    digest = hashlib.sha256(b"imitation_datasets content v1")
    for name in FIELDS:
        value = getattr(arrays, name)
        digest.update(name.encode() + b"\0")
        if value is None:
            digest.update(b"none\0")
            continue
        array = np.ascontiguousarray(value)
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        digest.update(f"{array.dtype.str}{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
