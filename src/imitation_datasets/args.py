"""IL-Datasets 1.0.0's ``imitation_datasets.args.get_args``: the dataset-creation flags."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from collections.abc import Sequence


def get_args(args: Sequence[str] | None = None) -> Namespace:
    """Parse the original's flags (``sys.argv`` when ``args`` is ``None``).

    ``-g/--game`` (required: registry name), ``-e/--episodes`` (default 10), ``-t/--threads``
    (default 1), ``--threshold`` (default: the expert's), ``--mode`` (``all``, ``play`` — the
    default, as in 1.0.0 — or ``collate``). The result goes to ``Controller.start``.
    """
    parser = ArgumentParser(description="Create an imitation-learning dataset (IL-Datasets "
                                        "1.0.0 flags)")
    parser.add_argument("-g", "--game", type=str, required=True,
                        help="registered expert name (e.g. cartpole)")
    parser.add_argument("-e", "--episodes", type=int, default=10, help="number of episodes")
    parser.add_argument("-t", "--threads", type=int, default=1,
                        help="how many workers should the process execute")
    parser.add_argument("--threshold", type=float, default=None,
                        help="minimum episode return (default: the expert's threshold)")
    parser.add_argument("--mode", type=str, default="play", choices=["all", "play", "collate"],
                        help="all: play and collate; play: only play; collate: only collate")
    return parser.parse_args(args)
