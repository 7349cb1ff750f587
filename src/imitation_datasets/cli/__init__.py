"""The ``il-datasets`` command line: :func:`main`, one module per group of subcommands.

:mod:`~imitation_datasets.cli.app` (the entry point and error handling),
:mod:`~imitation_datasets.cli.arguments` (arguments generated from option dataclasses),
:mod:`~imitation_datasets.cli.collect`, :mod:`~imitation_datasets.cli.datasets` (``info``,
``export-npz``), :mod:`~imitation_datasets.cli.experts`, :mod:`~imitation_datasets.cli.benchmark`
(``benchmark``, ``benchmark-report``), :mod:`~imitation_datasets.cli.errors` (one-line messages).
"""

from imitation_datasets.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
