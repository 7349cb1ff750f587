# Starts a process with the "spawn" method from a script without a __main__ guard: the child
# re-imports this script, reaches Controller.start() and must fail with a clear message.
import multiprocessing as mp
import sys

from imitation_datasets.controller import Controller
from imitation_datasets.functions import baseline_collate, baseline_enjoy

if mp.current_process().name == "MainProcess":
    process = mp.get_context("spawn").Process(target=print, args=("child",))
    process.start()
    process.join()
    sys.exit(process.exitcode)
Controller(baseline_enjoy, baseline_collate, episodes=1).start({"game": "cartpole"})
