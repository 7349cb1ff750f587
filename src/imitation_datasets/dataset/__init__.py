"""Paper-compatible import path for training assistance.

``from imitation_datasets.dataset import BaselineDataset`` (the IL-Datasets paper's API)::

    train = BaselineDataset("dataset/cartpole", n_episodes=100)
    evaluation = BaselineDataset("dataset/cartpole", n_episodes=100, split="eval")
    hosted = BaselineDataset("NathanGavenski/CartPole-v1", source="hf")

The implementations live in :mod:`imitation_datasets.data`; this package gives them IL-Datasets
1.0.0's surface (``dataset.py``, ``huggingface.py``, ``metrics.py``, ``random_dataset.py``, the
original's module names; see ``docs/compat.md``).
"""

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.batches import (
    TransitionBatchSampler,
    TransitionLoader,
    WindowedBatchSampler,
)
from imitation_datasets.data.huggingface import (
    from_hf_dataset,
    push_to_hub,
    to_hf_dataset,
    write_hub_folder,
)
from imitation_datasets.data.interop_d3rlpy import to_d3rlpy
from imitation_datasets.data.interop_imitation import to_imitation
from imitation_datasets.data.interop_torchrl import to_replay_buffer, to_tensordict
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.minari_export import to_minari
from imitation_datasets.data.minari_io import from_minari, minari_to_dataset
from imitation_datasets.data.sources import load_source
from imitation_datasets.data.torch_dataset import SequenceDataset
from imitation_datasets.dataset.dataset import BaselineDataset, DatasetNotFoundError, IRLDataset
from imitation_datasets.dataset.huggingface import (
    baseline_to_huggingface,
    convert_baseline_dataset_to_dict,
    huggingface_to_baseline,
    save_dataset_into_huggingface_format,
)
from imitation_datasets.dataset.random_dataset import get_random_dataset

__all__ = [
    "BaselineDataset",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "IRLDataset",
    "LoadedData",
    "SequenceDataset",
    "TransitionBatchSampler",
    "TransitionLoader",
    "WindowedBatchSampler",
    "baseline_to_huggingface",
    "convert_baseline_dataset_to_dict",
    "from_hf_dataset",
    "from_minari",
    "get_random_dataset",
    "huggingface_to_baseline",
    "load_source",
    "minari_to_dataset",
    "push_to_hub",
    "save_dataset_into_huggingface_format",
    "to_d3rlpy",
    "to_hf_dataset",
    "to_imitation",
    "to_minari",
    "to_replay_buffer",
    "to_tensordict",
    "write_hub_folder",
]
