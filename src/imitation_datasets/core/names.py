"""Name lookup with helpful errors ("did you mean ...")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from imitation_datasets.core.errors import ImitationDatasetsError


class UnknownNameError(ImitationDatasetsError, LookupError):
    """A user-supplied name (env, expert, method) is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown name"


def normalise(name: str) -> str:
    """Case- and punctuation-insensitive form of a name (``"CartPole-v1"`` -> ``"cartpolev1"``)."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def unknown(kind: str, name: str, choices: Iterable[str], limit: int = 4) -> UnknownNameError:
    """Build a one-line error naming the closest registered choices."""
    choices = sorted(set(choices))
    by_norm = {normalise(c): c for c in choices}
    close = difflib.get_close_matches(normalise(name), list(by_norm), n=limit, cutoff=0.4)
    hint = ", ".join(by_norm[c] for c in close) if close else ", ".join(choices[:8])
    label = "closest" if close else "registered"
    return UnknownNameError(f"unknown {kind} {name!r}; {label}: {hint}")
