"""Trust boundaries for values read from files: contained paths and registered env ids.

The rule these helpers enforce: **nothing read from a file runs code or reaches outside the
file's folder.**

* :func:`contained_path` turns a path that a file names (a weights file, a data file listed in
  ``state.json``) into a path inside that file's folder, refusing absolute paths, ``..``,
  backslashes and symlinks that lead out of the folder.
* :func:`check_inside` checks a path found by listing a folder (a symlink may point anywhere).
* :func:`containment_root` is the folder a symlink may lead into: the folder itself, or the
  repository folder of a HuggingFace hub cache snapshot (whose files are symlinks into
  ``../../blobs``).
* :func:`registered_env_id` (and :func:`is_registered`) accept only ids already in Gymnasium's
  registry: an id such as ``"pwnmod:PwnPole-v1"`` makes ``gym.make`` import ``pwnmod`` (from
  the working directory too), so a ``module:`` prefix needs an explicit opt-in from the caller,
  never from the file.
* :func:`safe_env_kwargs` keeps ``gym.make`` arguments plain JSON values and refuses path-like
  arguments (``xml_file`` ...) that are not bare names.
* :func:`registry_env_spec` rebuilds an ``EnvSpec`` from the registry (its entry point, never a
  file's), for exports that others will ``gym.make``.

Reading a file safely (regular files only, size limits, JSON nesting) is
:mod:`imitation_datasets.core.safe_read`'s job.

Every helper raises ``error`` (a ``ValueError`` subclass chosen by the caller, e.g.
``DatasetFormatError`` or ``CardError``) with one line naming the file and the field.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from imitation_datasets.core.json_values import short_repr

PATH_KWARG_SUFFIXES = ("_file", "_path", "_dir", "_filename", "_directory")


def containment_root(folder: str | Path) -> Path:
    """The resolved folder that paths named inside ``folder`` may lead into.

    Normally ``folder`` itself (resolved). Inside a HuggingFace hub cache snapshot
    (``<repo>/snapshots/<revision>/...`` beside ``<repo>/blobs``) every file is a symlink into
    the repo's ``blobs``, so the root is the repo folder.
    """
    root = Path(folder).resolve()
    for ancestor in (root, *root.parents):
        if ancestor.parent.name == "snapshots" and (ancestor.parent.parent / "blobs").is_dir():
            return ancestor.parent.parent
    return root


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True


def check_inside(path: str | Path, folder: str | Path, *, source: str,
                 error: type[ValueError] = ValueError) -> Path:
    """Return ``path`` if it (symlinks resolved) lies inside ``folder``'s containment root.

    Raises:
        error: the path leads outside the folder.
    """
    path = Path(path)
    if not _inside(path, containment_root(folder)):
        raise error(f"{source}: {path} leads outside {folder} (symlink); refused")
    return path


def contained_path(folder: str | Path, name: Any, *, source: str, field: str,
                   error: type[ValueError] = ValueError) -> Path:
    """``folder / name`` for a relative ``name`` read from a file, guaranteed inside ``folder``.

    Args:
        folder: the folder of the file that names the path.
        name: the value read from the file.
        source: the file, for the message.
        field: the field of the file that held ``name``, for the message.
        error: exception class to raise.

    Raises:
        error: ``name`` is not a non-empty string, is absolute, has ``..`` or a backslash, or
            (symlinks resolved) leads outside ``folder``.
    """
    if not isinstance(name, str) or not name or "\x00" in name:
        raise error(f"{source}: {field} must be a non-empty relative path, got {short_repr(name)}")
    parts = PurePosixPath(name).parts
    if "\\" in name or name.startswith("/") or ":" in parts[0] or ".." in parts:
        raise error(f"{source}: {field} {short_repr(name)} must be a relative path inside {folder} "
                    "(no absolute path, '..' or backslash)")
    path = Path(folder, *parts)
    if not _inside(path, containment_root(folder)):
        raise error(f"{source}: {field} {short_repr(name)} leads outside {folder} (symlink); "
                    "refused")
    return path


def is_registered(env_id: Any) -> bool:
    """Whether ``env_id`` is a string id already in Gymnasium's registry (no ``module:``)."""
    import gymnasium as gym

    return isinstance(env_id, str) and ":" not in env_id and env_id in gym.registry


def registered_env_id(env_id: Any, *, source: str, field: str = "env_id",
                      allow_env_import: bool = False,
                      error: type[ValueError] = ValueError) -> str:
    """Check that ``env_id`` (read from a file) is safe to hand to ``gym.make``.

    Without ``allow_env_import`` the id must already be registered with Gymnasium and have no
    ``module:`` prefix (``gym.make("mod:Env-v0")`` imports ``mod``, from the working directory
    too). With it, a ``module:`` id is accepted as is: the caller trusts that module.

    Raises:
        error: not a string, a ``module:`` id without the opt-in, or not registered.
    """
    if not isinstance(env_id, str) or not env_id:
        raise error(f"{source}: {field} must be a non-empty string, got {short_repr(env_id)}")
    if ":" in env_id:
        if allow_env_import:
            return env_id
        raise error(
            f"{source}: {field} {short_repr(env_id)} would import module "
            f"{short_repr(env_id.split(':')[0])}; only registered Gymnasium ids are accepted (pass "
            "allow_env_import=True if you trust it)"
        )
    if not is_registered(env_id):
        raise error(f"{source}: {field} {short_repr(env_id)} is not a registered Gymnasium "
                    "environment (import the package that registers it first)")
    return env_id


def _plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def safe_env_kwargs(kwargs: Any, *, source: str, field: str = "env_kwargs",
                    error: type[ValueError] = ValueError) -> dict[str, Any]:
    """``gym.make`` keyword arguments read from a file, checked.

    Values must be JSON scalars or lists of them; an argument named like a path
    (``xml_file``, ``..._path``, ``..._dir``) must be a bare file name, which Gymnasium's envs
    resolve inside their own assets, never a path chosen by the file.

    Raises:
        error: not an object, a nested object value, or a path-like argument with a folder.
    """
    if kwargs is None:
        return {}
    if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
        raise error(f"{source}: {field} must be an object with string keys")
    for key, value in kwargs.items():
        if not _plain(value):
            raise error(f"{source}: {field}.{key} must be a number, string, boolean, null or a "
                        f"list of them, got {type(value).__name__}")
        if key.endswith(PATH_KWARG_SUFFIXES) and value is not None and (
                not isinstance(value, str) or value in ("", ".", "..")
                or any(c in value for c in "/\\:") or value.startswith(".")):
            raise error(f"{source}: {field}.{key} {short_repr(value)} must be a bare file name "
                        "(the environment's own assets), not a path")
    return dict(kwargs)


def registry_env_spec(env_id: Any, kwargs: Any = None, max_episode_steps: Any = None, *,
                      source: str, error: type[ValueError] = ValueError) -> Any:
    """A ``gymnasium.envs.registration.EnvSpec`` rebuilt from the registry.

    The entry point, wrappers and defaults come from Gymnasium's registry entry for the
    registered ``env_id``; only checked keyword arguments (:func:`safe_env_kwargs`) and an
    integer ``max_episode_steps`` are taken from the caller's data.

    Raises:
        error: ``env_id`` is not registered (or has a ``module:`` prefix), or bad kwargs.
    """
    import gymnasium as gym

    base = gym.spec(registered_env_id(env_id, source=source, field="env id", error=error))
    steps = max_episode_steps if isinstance(max_episode_steps, int) and \
        not isinstance(max_episode_steps, bool) and max_episode_steps > 0 \
        else base.max_episode_steps
    extra = safe_env_kwargs(kwargs, source=source, field="env kwargs", error=error)
    return replace(base, kwargs={**base.kwargs, **extra}, max_episode_steps=steps,
                   additional_wrappers=())


__all__ = ["check_inside", "contained_path", "containment_root", "is_registered",
           "registered_env_id", "registry_env_spec", "safe_env_kwargs"]
