"""IL-Datasets 1.0.0's ``imitation_datasets.baselines.methods``, as adapters over our methods.

``BC(env, enjoy_criteria=100, verbose=False, config_file=None)`` trains our
:class:`~imitation_datasets.methods.BC` policy from a ``DataLoader``;
``OfflineIQLearn`` does the same with our offline IQ-Learn
(:class:`~imitation_datasets.methods.IQLearnOffline`); ``BCO``, ``ABCO`` and ``IUPE`` run our
methods of the same names on the ``DataLoader``'s episodes. All keep 1.0.0's ``train``,
``save``/``load``, ``predict`` and ``_enjoy``. Deviations are listed in ``docs/compat.md``.
"""

from imitation_datasets.baselines.methods.bc import BC
from imitation_datasets.baselines.methods.method import Method
from imitation_datasets.baselines.methods.observation import ABCO, BCO, IUPE
from imitation_datasets.baselines.methods.offline_iqlearn import OfflineIQLearn

__all__ = ["ABCO", "BC", "BCO", "IUPE", "Method", "OfflineIQLearn"]
