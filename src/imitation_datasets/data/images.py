"""Observations stored as encoded images, decoded lazily, one at a time.

These are the original hub layout's image columns; an image is decoded when a transition is read.

Accepted Arrow columns: strings (image file paths, relative to the dataset's folder), binary
(encoded PNG/JPEG bytes), or HuggingFace's ``Image`` feature (a struct of ``bytes`` and
``path``). Decoding uses Pillow (``pip install pillow``); nothing else is read from the file.

Bounds: an image of more than :data:`MAX_IMAGE_PIXELS` pixels (width x height, read from its
header before anything is decoded) is refused, as is an image file that is not a regular file
or is larger than :data:`MAX_IMAGE_FILE_BYTES`. Both are module constants a user may raise.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import mmap
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.core.extras import require_extra
from imitation_datasets.core.safe_paths import containment_root
from imitation_datasets.core.safe_read import read_bytes
from imitation_datasets.data.mapped import release_pages

MAX_IMAGE_PIXELS = 4096 * 4096
"""Largest image decoded (16.8 megapixels; IL observations are far smaller). A 140 KB PNG may
declare 144 megapixels: without this bound it decodes to 144 MB for every item read."""
MAX_IMAGE_FILE_BYTES = 64 << 20
"""Largest encoded image file read from the dataset's folder."""


def is_image_column(array_type: pa.DataType) -> bool:
    """Whether an Arrow column of this type holds encoded images or image paths."""
    if pa.types.is_struct(array_type):
        names = {array_type.field(i).name for i in range(array_type.num_fields)}
        return "bytes" in names or "path" in names
    return any(check(array_type) for check in (
        pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
        pa.types.is_large_binary))


class ImageColumn:
    """A lazily decoded column of images: ``column[i]`` is a ``uint8`` ``(H, W, C)`` array.

    Args:
        values: the Arrow array (paths, bytes, or ``{bytes, path}`` structs).
        base_dir: folder that relative paths are resolved against; a path may not leave it.
        origin: the file the column came from, for error messages.
    """

    def __init__(self, values: pa.Array | pa.ChunkedArray, base_dir: Path | None,
                 origin: str) -> None:
        # a chunked column stays chunked: combining would copy a memory-mapped file into memory
        if values.null_count:
            raise DatasetFormatError(f"{origin}: image column has missing values")
        self.values = values
        self._encoded = _encoded_chunks(values)
        self.base_dir = None if base_dir is None else Path(base_dir).resolve()
        self.origin = origin
        self.mapping: mmap.mmap | None = None
        """The memory-mapped file holding the values, if any (its pages can be released)."""
        self.expected_shape: tuple[int, ...] | None = None
        """Shape every decoded image must have (from the metadata), if known."""

    def __len__(self) -> int:
        return len(self.values)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(rows, H, W, C)``, from the first image."""
        return (len(self), *self[0].shape)

    @property
    def dtype(self) -> np.dtype:
        """``uint8``: every image decodes to bytes."""
        return np.dtype(np.uint8)

    def take(self, rows: np.ndarray) -> ImageColumn:
        """The images at ``rows`` (still encoded)."""
        return ImageColumn(self.values.take(pa.array(np.asarray(rows, dtype=np.int64))),
                           self.base_dir, self.origin)

    def slice(self, start: int, stop: int) -> ImageColumn:
        """Rows ``start:stop`` (zero-copy: still in the same mapping)."""
        column = ImageColumn(self.values.slice(start, stop - start), self.base_dir, self.origin)
        column.mapping, column.expected_shape = self.mapping, self.expected_shape
        return column

    def raw(self, index: int) -> bytes | str:
        """The stored value of row ``index``: encoded bytes or a path."""
        if self._encoded is not None:  # every row holds bytes: read them from their chunk
            starts, chunks = self._encoded
            if index < 0:
                index += len(self)
            if not 0 <= index < len(self):
                raise IndexError(f"image {index} out of range for {len(self)} rows")
            chunk = bisect.bisect_right(starts, index) - 1
            data: bytes = chunks[chunk][index - starts[chunk]].as_py()
            if data:  # empty bytes: the row's path, if any, below
                return data
        value = self.values[index].as_py()
        if isinstance(value, dict):
            value = value.get("bytes") or value.get("path")
        if value is None:
            raise DatasetFormatError(f"{self.origin}: row {index} holds no image")
        return value

    def __getitem__(self, index: int) -> np.ndarray:
        value = self.raw(int(index))
        require_extra("images", f"{self.origin}: image observations", modules=("PIL",))
        from PIL import Image

        if not isinstance(value, bytes | bytearray):
            value = read_bytes(self._path(value, index), MAX_IMAGE_FILE_BYTES)
        try:
            with Image.open(io.BytesIO(value)) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise DatasetFormatError(
                        f"{self.origin}: row {index}: image of {width}x{height} pixels, more than "
                        f"the {MAX_IMAGE_PIXELS}-pixel limit (images.MAX_IMAGE_PIXELS); refused")
                array = np.asarray(image)
        except DatasetFormatError:
            raise
        except (OSError, ValueError, EOFError, SyntaxError, struct.error,
                Image.DecompressionBombError) as exc:
            raise DatasetFormatError(f"{self.origin}: row {index}: unreadable image ({exc})") \
                from None
        if array.ndim == 2:
            array = array[:, :, None]
        if self.expected_shape is not None and array.shape != self.expected_shape:
            raise DatasetFormatError(f"{self.origin}: row {index}: image shaped {array.shape}, "
                                     f"the metadata's space is {self.expected_shape}")
        return np.ascontiguousarray(array, dtype=np.uint8)

    def _path(self, value: str, index: int) -> Path:
        path = Path(value)
        if self.base_dir is None:
            raise DatasetFormatError(
                f"{self.origin}: row {index} names image file {value!r} but the dataset has no "
                "folder to resolve it against"
            )
        resolved = (self.base_dir / path).resolve()
        # In a hub cache snapshot files are symlinks into the repo's blobs: that is the root.
        if not resolved.is_relative_to(containment_root(self.base_dir)):
            raise DatasetFormatError(
                f"{self.origin}: row {index}: image path {value!r} leaves the dataset folder "
                f"{self.base_dir}; refused"
            )
        return resolved


def _encoded_chunks(values: pa.Array | pa.ChunkedArray
                    ) -> tuple[list[int], list[pa.Array]] | None:
    """``(first row of each chunk, its encoded-bytes array)`` when every row holds bytes.

    Built once: reading a row is then a bisection and one binary value, instead of a struct
    scalar looked up through the chunks (and the child arrays pyarrow creates on first access,
    one per chunk, are made here, before any batch is decoded: made lazily between large
    transient batches they kept glibc from returning its heap, 550 MB after 30,000 random
    transitions of a 2,000-chunk file).
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not pa.types.is_struct(values.type) or values.type.get_field_index("bytes") < 0:
        return None
    encoded = [chunk.field("bytes") for chunk in chunks]
    if any(part.null_count for part in encoded):
        return None  # some rows name a file instead
    starts = [0]
    for part in encoded:
        starts.append(starts[-1] + len(part))
    return starts, encoded


# ---------------------------------------------------------------------------- frame columns
IMAGE_FIELD = "image"
"""The column of a frame file: HuggingFace's ``Image`` struct (``bytes``, ``path``)."""
HF_IMAGE_SCHEMA = pa.schema(
    [pa.field(IMAGE_FIELD, pa.struct([("bytes", pa.binary()), ("path", pa.string())]))],
    metadata={b"huggingface": b'{"info": {"features": {"image": {"_type": "Image"}}}}'})
"""Arrow schema of a frame file; the ``huggingface`` metadata makes ``datasets`` read the column
as its ``Image`` feature."""
PNG_LEVEL = 1
"""zlib level of the PNG frames (``benchmarks/pixels.py`` measures the size/speed trade-off);
fixed, so the same frame always gives the same bytes."""


def encode_png(frame: np.ndarray) -> bytes:
    """A ``H x W x 3`` (or ``x 1``) uint8 frame as PNG bytes (lossless, byte-deterministic)."""
    from PIL import Image

    frame = np.ascontiguousarray(frame, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame).save(
        buffer, format="PNG", compress_level=PNG_LEVEL)
    return buffer.getvalue()


class FrameWriter:
    """Writes frames as PNG images into an Arrow IPC stream file, a record batch per call.

    The file is what ``datasets`` keeps on disk (``Dataset.from_file(path)`` reads it, the
    column as an ``Image`` feature) and is memory-mapped by :func:`map_frames`. Written to a
    temporary name and renamed by :meth:`close` (see :mod:`~imitation_datasets.core.atomic`).
    """

    def __init__(self, path: str | Path) -> None:
        from imitation_datasets.core.atomic import atomic_path

        self._stack = contextlib.ExitStack()
        tmp = self._stack.enter_context(atomic_path(path))
        sink = self._stack.enter_context(pa.OSFile(str(tmp), "wb"))
        self._writer = self._stack.enter_context(pa.ipc.new_stream(sink, HF_IMAGE_SCHEMA))
        self.rows = 0

    def write(self, frames: np.ndarray) -> None:
        """Append ``(n, H, W, C)`` uint8 frames."""
        encoded = pa.array([encode_png(frame) for frame in frames], pa.binary())
        column = pa.StructArray.from_arrays([encoded, pa.nulls(len(frames), pa.string())],
                                            fields=list(HF_IMAGE_SCHEMA.field(0).type))
        self._writer.write_batch(pa.record_batch([column], schema=HF_IMAGE_SCHEMA))
        self.rows += len(frames)

    def close(self) -> None:
        """Finish the file (it appears under its name only now)."""
        self._stack.close()

    def abort(self) -> None:
        """Remove the unfinished file."""
        with contextlib.suppress(BaseException):
            self._stack.__exit__(RuntimeError, RuntimeError("aborted"), None)


RELEASE_EVERY = 64
"""Record batches of a frame file opened between two releases of its mapped pages."""


def map_frames(path: str | Path, rows: int, shape: tuple[int, ...] | None = None
               ) -> ImageColumn:
    """The frames of a :class:`FrameWriter` file, memory-mapped (decoded one at a time).

    The file's structure is validated in full (offsets inside their buffers) before any frame
    is read; ``shape`` (the metadata's), when given, is checked on every frame decoded.

    Raises:
        DatasetFormatError: not a regular Arrow IPC stream, another schema, not ``rows``
            frames, or inconsistent buffers.
    """
    from imitation_datasets.core.safe_read import require_regular

    path = Path(path)
    try:
        require_regular(path)
        with open(path, "rb") as handle:
            mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mapping, "madvise") and hasattr(mmap, "MADV_RANDOM"):
            mapping.madvise(mmap.MADV_RANDOM)  # frames are read one at a time: no read-ahead
        # zero-copy: the table's buffers are slices of the mapping. Reading a batch's header and
        # validating its offsets maps the pages around them (the kernel's fault-around, 64 KiB):
        # released every RELEASE_EVERY batches, or opening a 1M-frame file (2,000 batches) made
        # 130 MB of it resident.
        reader = pa.ipc.open_stream(pa.BufferReader(pa.py_buffer(mapping)))
        batches = []
        for batch in reader:
            batch.validate(full=True)
            batches.append(batch)
            if len(batches) % RELEASE_EVERY == 0:
                release_pages(mapping)
        table = pa.Table.from_batches(batches, schema=reader.schema)
        release_pages(mapping)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: missing") from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DatasetFormatError(f"{path}: not a readable Arrow stream ({exc})") from None
    if table.schema.names != [IMAGE_FIELD] or not is_image_column(table.schema.field(0).type):
        raise DatasetFormatError(f"{path}: expected one image column, found {table.schema}")
    if table.num_rows != rows:
        raise DatasetFormatError(f"{path}: {table.num_rows} frames, expected {rows}")
    column = ImageColumn(table.column(0), None, str(path))
    column.mapping, column.expected_shape = mapping, shape
    return column
