"""Tooling of the curated expert zoo: training recipes, trainers, checkpoints, export, measurement.

The runtime package :mod:`imitation_datasets` ships the experts (``experts/zoo/KEY.json`` cards
and ``KEY.safetensors`` weights, run in NumPy); this package made them and can remake them. It
depends on :mod:`imitation_datasets`, never the reverse, and on stable-baselines3, sb3-contrib and
torch (the ``sb3`` extra) for training and export.

* ``recipes/KEY.yaml``: one recipe per expert (:mod:`imitation_zoo.recipe`);
* ``checkpoints/KEY/``: the committed, pickle-free training state of resumable recipes;
* ``python -m imitation_zoo.train KEY``: train (or resume) and ship one expert
  (``--export-only`` ships the best checkpoint already on disk);
* ``python -m imitation_zoo.evaluate [KEY ...] [--write]``: re-measure shipped experts.

Cards shipped before this package existed record the same commands under their former module,
``imitation_datasets.experts.recipes`` (``.train``, ``.evaluate``); the cards are kept byte for
byte, so those strings stay as they were measured.
"""
