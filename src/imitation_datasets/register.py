"""IL-Datasets 1.0.0's ``imitation_datasets.register``: ``classic``, ``mujoco`` and ``atari``.

Each maps the original's keys to one of our curated experts, in the original's entry layout:
``name`` (the Gymnasium id), ``repo_id`` and ``filename`` (where the weights ship: inside this
package, not on a hub), ``threshold`` (the card's acceptance threshold) and ``algo`` (the
algorithm's name: the experts run without stable-baselines3, so there is no SB3 class), plus
``expert``, the :class:`~imitation_datasets.experts.CuratedExpert` itself. The original's
``ant-1`` (its second Ant teacher) is our ``ant``; importing this module also makes
``Experts.get_expert("ant-1")`` resolve to it. ``atari`` is empty, as in 1.0.0.
"""

from __future__ import annotations

from typing import Any

from imitation_datasets.experts import Experts

ZOO_REPO = "imitation_datasets/experts/zoo"
"""Where the curated experts' weights ship (the package folder, not a hub repo)."""

CLASSIC_KEYS = {"cartpole": "cartpole", "mountaincar": "mountaincar", "acrobot": "acrobot"}
"""1.0.0's classic-control keys and our experts for them."""
MUJOCO_KEYS = {"ant": "ant", "ant-1": "ant", "walker": "walker", "swimmer": "swimmer",
               "cheetah": "cheetah", "hopper": "hopper", "humanoid": "humanoid"}
"""1.0.0's MuJoCo keys and our experts for them."""
EXTRA_ALIASES = {"ant": ("ant-1",)}
"""1.0.0 keys that are not names of our experts, registered as aliases."""


def entry(key: str) -> dict[str, Any]:
    """The 1.0.0-layout register entry of our curated expert ``key``."""
    expert = Experts.get_expert(key)
    return {
        "name": expert.env_id,
        "repo_id": ZOO_REPO,
        "filename": expert.weights_path.name,
        "threshold": float(expert.threshold),
        "algo": str(expert.algo),
        "expert": expert,
    }


classic: dict[str, dict[str, Any]] = {old: entry(ours) for old, ours in CLASSIC_KEYS.items()}
mujoco: dict[str, dict[str, Any]] = {old: entry(ours) for old, ours in MUJOCO_KEYS.items()}
atari: dict[str, dict[str, Any]] = {}

for _key, _aliases in EXTRA_ALIASES.items():
    Experts.register(_key, Experts.get_expert(_key), _aliases)

__all__ = ["atari", "classic", "entry", "mujoco"]
