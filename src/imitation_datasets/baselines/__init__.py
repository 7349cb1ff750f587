"""IL-Datasets 1.0.0's ``imitation_datasets.baselines``: its ``Method`` API over our methods.

``from imitation_datasets.baselines.methods import BC, BCO, ABCO, IUPE, OfflineIQLearn`` (see
:mod:`imitation_datasets.baselines.methods`).
"""

from imitation_datasets.baselines.methods import ABCO, BC, BCO, IUPE, Method, OfflineIQLearn

__all__ = ["ABCO", "BC", "BCO", "IUPE", "Method", "OfflineIQLearn"]
