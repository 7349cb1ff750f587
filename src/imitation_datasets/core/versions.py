"""Versions of installed libraries, recorded next to data, checkpoints and results."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata


def library_versions(distributions: Iterable[str], *, missing: str | None = None) -> dict[str, str]:
    """Python's version plus the installed version of each distribution named.

    Args:
        distributions: distribution names as pip knows them (``"gymnasium"``,
            ``"stable-baselines3"``).
        missing: value recorded for a distribution that is not installed; ``None`` leaves it out.
    """
    versions = {"python": platform.python_version()}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if missing is not None:
                versions[name] = missing
    return versions
