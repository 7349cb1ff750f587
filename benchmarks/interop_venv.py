"""Shared by the interop scripts: a client that cannot live beside us, in its own venv.

``ensure_venv(path, requirement)`` makes ``python -m venv --system-site-packages <path>`` (so torch
and the rest come from the system) and ``pip install <requirement>`` into it, where the client's
pins (gymnasium 1.0.0 for d3rlpy, 0.29 for imitation) shadow the system's versions without
touching them. Returns the venv's python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def ensure_venv(path: Path, requirement: str) -> Path:
    """The venv's python, creating the venv and installing ``requirement`` when needed."""
    python = path / "bin" / "python"
    module = requirement.split("==")[0].replace("-", "_")
    if python.exists() and subprocess.run([str(python), "-c", f"import {module}"],
                                          capture_output=True).returncode == 0:
        return python
    print(f"creating {path} with {requirement} (a few minutes, once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def run(python: Path, script: str, *args: str) -> None:
    """Run ``script`` with the venv's ``python``, its output going to ours."""
    subprocess.run([str(python), script, *args], check=True)
