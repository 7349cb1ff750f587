"""imitation_datasets: create, load and benchmark imitation-learning datasets."""

__version__ = "0.1.0"
