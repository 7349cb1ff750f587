"""Training recipes of the curated experts: one YAML file per expert, read into a frozen dataclass.

A recipe fixes everything that produced a shipped expert: the environment, the algorithm
(a stable-baselines3 or sb3-contrib class name, or ``ARS-numpy``: this package's parallel NumPy
ARS in ``ars.py``, used for the MuJoCo experts), rl-zoo-style hyperparameters, the number of
timesteps, the training seed, observation normalisation, the target return and how often the
policy is validated during training. Loading a recipe needs only PyYAML (through
:func:`imitation_datasets.core.config.read_yaml`); training and exporting need the ``sb3`` extra
(stable-baselines3, sb3-contrib, torch).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from imitation_datasets.core.config import from_mapping, read_yaml
from imitation_datasets.core.errors import ConfigError
from imitation_datasets.core.seeding import EXPERT_SELECTION_SEED_START

PACKAGE_DIR = Path(__file__).resolve().parent
RECIPES_DIR = PACKAGE_DIR / "recipes"
"""Folder holding the ``<key>.yaml`` recipes."""

CHECKPOINTS_DIR = PACKAGE_DIR / "checkpoints"
"""Committed training state of resumable recipes (``checkpoints/<key>/``, safetensors + JSON)."""

RESUMABLE_ALGOS = ("ARS", "ARS-numpy")
"""Algorithms whose whole training state is a parameter vector plus observation statistics."""

TRAIN_MODULE = "imitation_zoo.train"
EVALUATE_MODULE = "imitation_zoo.evaluate"

EMPTY_MEANS_DEFAULT = ("aliases", "env_kwargs", "normalize")
"""Recipe keys whose ``null`` or empty value means the field's default (``normalize: {}``: none)."""


class RecipeError(ConfigError):
    """A recipe file is missing, or a field is unknown, missing or malformed (one line)."""


def train_command(key: str, timesteps: int | None = None) -> str:
    """Shell command that trains (or resumes) one expert, as recorded in its card."""
    command = f"python -m {TRAIN_MODULE} {key}"
    return command if timesteps is None else f"{command} --timesteps {int(timesteps)}"


def evaluate_command(key: str) -> str:
    """Shell command that re-measures one shipped expert, as recorded in its card."""
    return f"python -m {EVALUATE_MODULE} {key}"


@dataclass(frozen=True)
class Recipe:
    """One expert's training recipe (the parsed ``<key>.yaml``).

    Attributes:
        key: short name of the expert (the zoo key: also the card's ``name`` and the file stem).
        env_id: Gymnasium id.
        algo: algorithm class name in stable-baselines3 or sb3-contrib (``PPO``, ``DQN``, ...),
            or ``ARS-numpy`` (``ars.py``; hyperparameters are :class:`~imitation_zoo.ars.ARSConfig`
            fields).
        policy: policy class name passed to the algorithm (``MlpPolicy``, ``LinearPolicy``).
        n_envs: number of training environments (a ``DummyVecEnv``).
        total_timesteps: training budget in environment steps.
        seed: training seed (environments, torch, numpy).
        hyperparameters: keyword arguments of the algorithm; ``"lin_<x>"`` strings are linear
            schedules from ``x`` to 0 and ``policy_kwargs.activation_fn`` is ``"tanh"`` or
            ``"relu"`` (the rl-baselines3-zoo conventions).
        target: return the expert should reach (mean over the card's evaluation episodes).
        eval_freq: environment steps between two validation runs of the current policy.
        eval_episodes: validation episodes per run (seeds ``EXPERT_SELECTION_SEED_START + k``).
        normalize: ``VecNormalize`` keyword arguments, or ``None`` for raw observations.
        stop_at: stop training once a validation mean reaches this value (``None``: never).
        aliases: extra registry names of the expert (the Gymnasium id is always one).
        env_kwargs: extra ``gym.make`` arguments.
        source: where the hyperparameters come from.
        resumable: keep the training state (policy parameters, observation statistics,
            counters) and the best checkpoint in ``checkpoints/<key>/`` as safetensors + JSON,
            resume from there on the next run, and ship every improvement (ARS only).
    """

    key: str
    env_id: str
    algo: str
    policy: str
    n_envs: int
    total_timesteps: int
    seed: int
    hyperparameters: dict[str, Any]
    target: float
    eval_freq: int
    eval_episodes: int = 30
    normalize: dict[str, Any] | None = None
    stop_at: float | None = None
    aliases: tuple[str, ...] = ()
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    resumable: bool = False

    @property
    def path(self) -> Path:
        """The recipe's YAML file."""
        return RECIPES_DIR / f"{self.key}.yaml"

    def validation_seeds(self) -> list[int]:
        """Seeds of the validation episodes used to select the best checkpoint."""
        return [EXPERT_SELECTION_SEED_START + k for k in range(self.eval_episodes)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        if not self.resumable:  # keeps the digests of recipes written before the field
            del data["resumable"]
        return data

    def digest(self, total_timesteps: int | None = None) -> str:
        """SHA-256 of the recipe's content (with an optional timestep override).

        Two training runs with the same digest follow the same recipe, so a best checkpoint
        kept on disk by one may be reused by the other.
        """
        data = self.to_dict()
        if total_timesteps is not None:
            data["total_timesteps"] = int(total_timesteps)
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def check(self, where: str) -> None:
        """Raise :class:`RecipeError` for values that are well typed but invalid."""
        for name in ("n_envs", "total_timesteps", "eval_freq", "eval_episodes"):
            if getattr(self, name) < 1:
                raise RecipeError(f"{where}: {name} must be >= 1")
        if self.resumable and self.algo not in RESUMABLE_ALGOS:
            raise RecipeError(f"{where}: resumable training supports {RESUMABLE_ALGOS} only")
        if self.algo == "ARS-numpy" and not self.resumable:  # its trainer always keeps its state
            raise RecipeError(f"{where}: ARS-numpy recipes are resumable: set resumable: true")
        if self.resumable and any(isinstance(v, str) and v.startswith("lin_")
                                  for v in self.hyperparameters.values()):
            # SB3 computes schedule progress from the steps of the current learn() call only
            raise RecipeError(f"{where}: schedules (lin_...) do not survive a resume")


def recipe_keys() -> list[str]:
    """Keys of every recipe shipped with the package (sorted)."""
    return sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))


def load_recipe(key_or_path: str | Path) -> Recipe:
    """Read and check a recipe, given its key (``"cartpole"``) or a YAML path.

    Raises:
        RecipeError: the file is missing, a field is unknown (the closest names are given) or
            missing, or a value is invalid; one line naming the file.
    """
    path = Path(key_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = RECIPES_DIR / f"{key_or_path}.yaml"
    if not path.is_file():
        raise RecipeError(f"no recipe {key_or_path!r}; known: {', '.join(recipe_keys())}")
    try:
        data = read_yaml(path)
        data = {k: v for k, v in data.items() if v or k not in EMPTY_MEANS_DEFAULT}
        if "hyperparameters" in data and data["hyperparameters"] is None:
            data["hyperparameters"] = {}
        recipe = from_mapping(Recipe, data, str(path))
    except ConfigError as exc:
        raise RecipeError(str(exc)) from exc
    if recipe.key != path.stem:
        raise RecipeError(f"{path}: key {recipe.key!r} differs from the file name")
    recipe.check(str(path))
    return recipe
