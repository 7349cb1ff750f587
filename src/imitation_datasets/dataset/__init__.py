"""Paper-compatible import path for training assistance.

``from imitation_datasets.dataset import BaselineDataset`` (the IL-Datasets paper's API)::

    train = BaselineDataset("dataset/cartpole", n_episodes=100)
    evaluation = BaselineDataset("dataset/cartpole", n_episodes=100, split="eval")
    hosted = BaselineDataset("NathanGavenski/CartPole-v1", source="hf")

The implementations live in :mod:`imitation_datasets.data`.
"""

from imitation_datasets.core.errors import DatasetFormatError
from imitation_datasets.data.batches import TransitionBatchSampler, TransitionLoader
from imitation_datasets.data.huggingface import (
    baseline_to_huggingface,
    from_hf_dataset,
    huggingface_to_baseline,
    push_to_hub,
    to_hf_dataset,
    write_hub_folder,
)
from imitation_datasets.data.loaded import LoadedData
from imitation_datasets.data.minari_export import to_minari
from imitation_datasets.data.minari_io import from_minari, minari_to_dataset
from imitation_datasets.data.sources import load_source
from imitation_datasets.data.torch_dataset import BaselineDataset, IRLDataset, SequenceDataset

__all__ = [
    "BaselineDataset",
    "DatasetFormatError",
    "IRLDataset",
    "LoadedData",
    "SequenceDataset",
    "TransitionBatchSampler",
    "TransitionLoader",
    "baseline_to_huggingface",
    "from_hf_dataset",
    "from_minari",
    "huggingface_to_baseline",
    "load_source",
    "minari_to_dataset",
    "push_to_hub",
    "to_hf_dataset",
    "to_minari",
    "write_hub_folder",
]
