"""The one exception base class, so a caller can catch everything this library raises on purpose.

Each concrete error also derives from the built-in class a caller would expect (``ValueError``
for bad input, ``LookupError`` for unknown names, ...), so ``except ValueError`` keeps working.
Messages are one line: the CLI prints them as they are and exits with status 2.
"""

from __future__ import annotations

MAX_MESSAGE = 1000
"""Longest message (characters) a :class:`OneLineError` keeps."""


class ImitationDatasetsError(Exception):
    """Base class of every error this library raises on purpose."""


class OneLineError(ImitationDatasetsError):
    """An error whose message is folded to one line of at most :data:`MAX_MESSAGE` characters.

    Line breaks, e.g. in a dependency's message quoted in it, become spaces.
    """

    def __init__(self, message: object = "") -> None:
        text = " ".join(str(message).split())
        if len(text) > MAX_MESSAGE:
            text = text[:MAX_MESSAGE - 3] + "..."
        super().__init__(text)


class DatasetFormatError(OneLineError, ValueError):
    """A dataset file is missing, corrupt, or does not follow the format."""


class ConfigError(OneLineError, ValueError):
    """A configuration file or value is malformed: unknown key, wrong type, value out of range."""
