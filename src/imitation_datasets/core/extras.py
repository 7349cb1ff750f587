"""Optional dependencies (``pip install "imitation-datasets[<extra>]"``), checked up front.

A feature that needs an extra calls :func:`require_extra` (or, for an environment,
:func:`require_env_extra`) before any work starts (before a worker process is spawned, an
environment is made, a model trained), so a missing package ends in one line naming *our*
install command, never in a traceback from deep inside a dependency or a worker (and never
in Gymnasium's ``pip install swig "gymnasium[box2d]"``: our ``[box2d]`` extra needs no swig).

Checking uses ``importlib.util.find_spec``: nothing is imported.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from imitation_datasets.core.errors import OneLineError

EXTRAS: dict[str, tuple[str, ...]] = {
    "box2d": ("Box2D",),
    "mujoco": ("mujoco",),
    "sb3": ("stable_baselines3", "sb3_contrib", "huggingface_hub"),
    "hf": ("datasets", "huggingface_hub"),
    "plots": ("matplotlib",),
    "ray": ("ray",),
    "minari": ("minari",),
    "images": ("PIL",),
    "torchrl": ("torchrl", "tensordict"),
}
"""Each extra of ``pyproject.toml`` and the modules it provides (import names)."""

ENV_EXTRAS = (("gymnasium.envs.box2d", "box2d"), ("gymnasium.envs.mujoco", "mujoco"))
"""Entry-point module prefixes of Gymnasium environments that need one of our extras."""


class MissingExtraError(OneLineError, ImportError):
    """A feature needs an optional dependency that is not installed (one line, with the fix)."""


def install_command(extra: str) -> str:
    """``pip install "imitation-datasets[<extra>]"``."""
    return f'pip install "imitation-datasets[{extra}]"'


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


def missing_modules(extra: str, modules: Sequence[str] | None = None) -> list[str]:
    """The modules of ``extra`` (or ``modules``, when given) that are not installed."""
    if extra not in EXTRAS:
        raise KeyError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    return [m for m in (EXTRAS[extra] if modules is None else modules) if not _installed(m)]


def require_extra(extra: str, purpose: str, modules: Sequence[str] | None = None) -> None:
    """Raise :class:`MissingExtraError` when a module of ``extra`` is not installed.

    Args:
        extra: the extra's name in ``pyproject.toml`` (``"box2d"``, ``"hf"``...).
        purpose: what needs it, the start of the message (``"LunarLander-v3"``,
            ``"the hub layout"``).
        modules: the modules this purpose needs, when not every module of the extra.
    """
    missing = missing_modules(extra, modules)
    if missing:
        raise MissingExtraError(
            f"{purpose} needs the [{extra}] extra ({', '.join(missing)} not installed): "
            f"{install_command(extra)}")


def env_extra(env_id: str) -> str | None:
    """The extra a registered Gymnasium environment needs (``None``: none, or not registered)."""
    import gymnasium as gym

    try:
        entry_point = gym.spec(env_id).entry_point
    except Exception:  # noqa: BLE001 - unknown ids are reported by the caller's own check
        return None
    if not isinstance(entry_point, str):
        return None
    return next((extra for prefix, extra in ENV_EXTRAS if entry_point.startswith(prefix)), None)


def require_env_extra(env_id: str) -> None:
    """Raise :class:`MissingExtraError` when ``env_id``'s simulator extra is not installed."""
    extra = env_extra(env_id)
    if extra is not None:
        require_extra(extra, env_id)


__all__ = ["ENV_EXTRAS", "EXTRAS", "MissingExtraError", "env_extra", "install_command",
           "missing_modules", "require_env_extra", "require_extra"]
