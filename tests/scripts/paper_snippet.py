# The IL-Datasets paper's snippet, as written (no __main__ guard), with "cartpole".
from imitation_datasets.controller import Controller
from imitation_datasets.functions import baseline_collate, baseline_enjoy

Controller(
    baseline_enjoy, baseline_collate, episodes=20, threads=2
).start({"game": "cartpole", "mode": "all"})
