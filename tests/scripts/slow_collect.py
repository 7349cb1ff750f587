"""Run a deliberately slow collection (used by the interruption tests).

usage: slow_collect.py OUT EPISODES THREADS DELAY
"""

import sys
import time
from pathlib import Path

import numpy as np

from imitation_datasets.controller import Controller
from imitation_datasets.experts.policy import CallablePolicy
from imitation_datasets.functions import baseline_collate, baseline_enjoy

out, episodes, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
delay = float(sys.argv[4])


def slow_balance(obs):
    time.sleep(delay)
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)


# the identity lets a rerun resume the interrupted run (the delay does not change the actions)
policy = CallablePolicy(slow_balance, "CartPole-v1", threshold=0.0, name="balance-heuristic",
                        identity="balance-heuristic-v1")
controller = Controller(baseline_enjoy, baseline_collate, episodes=episodes, threads=threads,
                        path=out.parent, expert=policy, progress=False, envs_per_worker=2)
controller.start({"game": out.name, "mode": "all"})
