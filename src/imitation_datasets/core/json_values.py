"""Predicates on parsed JSON values, shared by every reader that checks a file's field types.

``json.loads`` gives ``bool`` for ``true``/``false``, and ``bool`` is a subclass of ``int`` in
Python, so "an integer" and "a number" must exclude it explicitly; Python's parser also accepts
``NaN`` and ``Infinity``, which :func:`is_finite_number` refuses.
"""

from __future__ import annotations

import math
from typing import Any


def is_int(value: Any) -> bool:
    """A JSON integer (not ``true``/``false``)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A JSON number, integer or float (not ``true``/``false``; NaN and infinities included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A JSON number that is neither NaN nor infinite."""
    return is_number(value) and math.isfinite(value)


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters to keep error messages on one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_number(value: float) -> float | str:
    """JSON-safe float: infinities and NaN become strings ``"inf"``, ``"-inf"``, ``"nan"``."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
