"""IL-Datasets 1.0.0's ``imitation_datasets.register``: ``classic``, ``mujoco`` and ``atari``.

Each maps the original's keys to one of our curated experts, in the original's entry layout:
``name`` (the Gymnasium id), ``repo_id`` and ``filename`` (where the weights ship: inside this
package, not on a hub), ``threshold`` (the card's acceptance threshold) and ``algo`` (the
algorithm's name: the experts run without stable-baselines3, so there is no SB3 class), plus
``expert``, the :class:`~imitation_datasets.experts.CuratedExpert` itself. The original's
``ant-1`` (its second Ant teacher) is our ``ant`` (``Experts.get_expert("ant-1")`` resolves
to it: :data:`~imitation_datasets.experts.registry.LEGACY_ALIASES`). ``atari`` is empty, as in
1.0.0.
"""

from typing import Any as _Any

from imitation_datasets.experts import Experts as _Experts

# Only the three registers are public names without an underscore, as in 1.0.0's package
# (whose test walks ``dir(register)``).
_Entry = dict[str, _Any]

_ZOO_REPO = "imitation_datasets/experts/zoo"
"""Where the curated experts' weights ship (the package folder, not a hub repo)."""

_CLASSIC_KEYS = {"cartpole": "cartpole", "mountaincar": "mountaincar", "acrobot": "acrobot"}
"""1.0.0's classic-control keys and our experts for them."""
_MUJOCO_KEYS = {"ant": "ant", "ant-1": "ant", "walker": "walker", "swimmer": "swimmer",
                "cheetah": "cheetah", "hopper": "hopper", "humanoid": "humanoid"}
"""1.0.0's MuJoCo keys and our experts for them."""


def _entry(key: str) -> _Entry:
    """The 1.0.0-layout register entry of our curated expert ``key``."""
    expert = _Experts.get_expert(key)
    return {
        "name": expert.env_id,
        "repo_id": _ZOO_REPO,
        "filename": expert.weights_path.name,
        "threshold": float(expert.threshold),
        "algo": str(expert.algo),
        "expert": expert,
    }


classic: dict[str, _Entry] = {old: _entry(ours) for old, ours in _CLASSIC_KEYS.items()}
mujoco: dict[str, _Entry] = {old: _entry(ours) for old, ours in _MUJOCO_KEYS.items()}
atari: dict[str, _Entry] = {}

__all__ = ["atari", "classic", "mujoco"]
