"""Paper-compatible import path: ``from imitation_datasets.controller import Controller``."""

from imitation_datasets.collect.controller import CollectionError, Controller
from imitation_datasets.collect.worker import Context

__all__ = ["CollectionError", "Context", "Controller"]
