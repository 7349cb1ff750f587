"""The catalogue of canonical datasets (one per curated expert, plus a random split), verified.

``get_dataset(key, split)`` returns a canonical dataset from a local folder, the HuggingFace
hub cache, or by regenerating it, and checks its content fingerprint against the committed
one (:mod:`.entries`). CLI: ``il-datasets datasets`` and ``il-datasets get KEY``.
"""

from imitation_datasets.catalogue.entries import CATALOGUE, Entry, Split
from imitation_datasets.catalogue.get import FingerprintMismatch, Got, get_dataset

__all__ = ["CATALOGUE", "Entry", "FingerprintMismatch", "Got", "Split", "get_dataset"]
