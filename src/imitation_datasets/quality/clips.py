"""Short animated clips (GIF) from replayed frames, small enough to inline in a page."""

from __future__ import annotations

import io

import numpy as np

from imitation_datasets.core.extras import require_extra

FRAME_MS = 120
"""Display time of each frame (the clip shows evenly spaced steps, not every step)."""


def gif(frames: list[np.ndarray], frame_ms: int = FRAME_MS) -> bytes:
    """An animated, looping GIF of ``frames`` (RGB uint8, same shape), adaptive palette."""
    require_extra("images", "the dataset report's clips")
    from PIL import Image

    if not frames:
        raise ValueError("a clip needs at least one frame")
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)).convert(
        "P", palette=Image.Palette.ADAPTIVE, colors=64) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=frame_ms, loop=0, optimize=True)
    return buffer.getvalue()
