"""The command line's one-line messages on stderr, and those for an ``OSError`` about a path.

An ``OSError`` about a user's path (permission, full disk, long name...) is printed as
``<path>: <reason>``, naming the file the user knows (a temporary ``.<name>.<pid>.tmp`` is named
as ``<name>``); any other ``OSError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import re
import sys
from pathlib import Path
from typing import Any

PATH_ERRNOS = frozenset({
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO,
    errno.ENAMETOOLONG, errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOENT, errno.ELOOP,
    errno.ENOTEMPTY, errno.EXDEV, errno.EBUSY, errno.ETXTBSY,
})
"""``OSError`` numbers that describe a user's path (reported as one line, exit 2); any other
``OSError`` is a bug and keeps its traceback."""
TEMP_NAME = re.compile(r"^\.(.+)\.\d+\.tmp$")
"""Temporary files are written as ``.<name>.<pid>.tmp`` and renamed; errors name ``<name>``."""


def path_error(exc: OSError, target: Path | None) -> str | None:
    """``"<path>: <reason>"`` for an OSError about a user's path; ``None`` for anything else.

    Args:
        exc: the error.
        target: the path the command writes or reads, named when ``exc`` names no file.
    """
    if exc.errno is None:  # raised by this library with its own message
        return str(exc) if isinstance(exc, FileNotFoundError) else None
    if exc.errno not in PATH_ERRNOS:
        return None
    path = exc.filename if exc.filename is not None else target
    return f"{final_name(path)}: {exc.strerror or exc}"


def final_name(path: Any) -> Any:
    """The file a temporary ``.<name>.<pid>.tmp`` (written, then renamed) stands for."""
    match = TEMP_NAME.match(Path(path).name) if isinstance(path, (str, Path)) else None
    return Path(path).with_name(match.group(1)) if match else path


def fail(message: object, status: int = 2, kind: str = "error: ") -> int:
    """Print ``il-datasets: <kind><message>`` as one line on stderr; return ``status``."""
    print(f"il-datasets: {kind}{' '.join(str(message).split())}", file=sys.stderr)
    return status
