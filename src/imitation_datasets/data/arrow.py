"""NumPy <-> Arrow without pandas: the buffer-level conversions every columnar backend shares.

``pyarrow.array()`` and ``Array.to_numpy()`` import pandas (a quarter of a second nobody needs);
these build Arrow arrays from NumPy buffers and read them back as NumPy views.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def flat_array(values: np.ndarray) -> pa.Array:
    """A 1-D numeric or bool NumPy array as an Arrow array, built from its buffer directly."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def nested_array(values: np.ndarray) -> pa.Array:
    """``(rows, *shape)`` values as fixed-size lists nested like ``shape`` (scalars stay flat)."""
    if values.ndim == 1:
        return flat_array(values)
    array = flat_array(np.ascontiguousarray(values).reshape(-1))
    for width in reversed(values.shape[1:]):
        array = pa.FixedSizeListArray.from_arrays(array, int(width))
    return array


def flattened_array(values: np.ndarray) -> pa.Array:
    """``(rows, *shape)`` values as one fixed-size list of the flattened row (scalars stay flat).

    The shape itself is recorded elsewhere (our ``metadata.json``).
    """
    if values.ndim == 1:
        return flat_array(values)
    width = int(np.prod(values.shape[1:]))
    return pa.FixedSizeListArray.from_arrays(flat_array(values.reshape(-1)), width)


def arrow_numpy(array: pa.Array) -> np.ndarray:
    """A primitive Arrow array without nulls as NumPy, read from its buffers.

    Numbers are a zero-copy (read-only) view; bools are unpacked.

    Raises:
        TypeError: the array is not numeric or bool.
    """
    kind = array.type
    data = array.buffers()[1]
    if pa.types.is_boolean(kind):
        if data is None:
            return np.zeros(0, dtype=bool)
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little",
                             count=array.offset + len(array))
        return bits[array.offset:].astype(bool)
    width = kind.bit_width
    if pa.types.is_floating(kind):
        dtype = np.dtype(f"float{width}")
    elif pa.types.is_signed_integer(kind):
        dtype = np.dtype(f"int{width}")
    elif pa.types.is_unsigned_integer(kind):
        dtype = np.dtype(f"uint{width}")
    else:
        raise TypeError(f"not a numeric Arrow type: {kind}")
    if data is None:
        return np.zeros(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def step_numbers(lengths: np.ndarray) -> np.ndarray:
    """``(T,)`` int32 step number of each row inside its episode (``0 .. length-1``)."""
    total = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return (np.arange(total, dtype=np.int64) - starts).astype(np.int32)
