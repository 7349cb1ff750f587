"""Training recipes of the curated experts: one YAML file per expert, plus train/export/evaluate.

A recipe fixes everything that produced a shipped expert: the environment, the algorithm
(a stable-baselines3 or sb3-contrib class name, or ``ARS-numpy``: this package's parallel NumPy
ARS in ``ars.py``, used for the MuJoCo experts), rl-zoo-style hyperparameters, the number of
timesteps, the training seed, observation normalisation, the target return and how often the
policy is validated during training. Loading a recipe needs only PyYAML; training and exporting
need the ``sb3`` extra (stable-baselines3, sb3-contrib, torch).

* ``python -m imitation_datasets.experts.recipes.train KEY`` trains and ships one expert;
* ``python -m imitation_datasets.experts.recipes.evaluate [KEY ...]`` re-measures shipped ones.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from imitation_datasets.core.seeding import EXPERT_SELECTION_SEED_START

RECIPES_DIR = Path(__file__).resolve().parent
"""Folder holding the ``<key>.yaml`` recipes."""

CHECKPOINTS_DIR = RECIPES_DIR / "checkpoints"
"""Committed training state of resumable recipes (``checkpoints/<key>/``, safetensors + JSON)."""

VALIDATION_SEED_START = EXPERT_SELECTION_SEED_START
"""Checkpoint selection plays the seeds ``VALIDATION_SEED_START + k``: never the card's seeds."""

RECIPE_FIELDS = (
    "key", "env_id", "algo", "policy", "n_envs", "total_timesteps", "seed", "normalize",
    "hyperparameters", "target", "eval_freq", "eval_episodes", "stop_at", "aliases",
    "env_kwargs", "source", "resumable",
)

RESUMABLE_ALGOS = ("ARS", "ARS-numpy")
"""Algorithms whose whole training state is a parameter vector plus observation statistics."""


class RecipeError(ValueError):
    """A recipe file is missing a field or has a malformed one."""


@dataclass(frozen=True)
class Recipe:
    """One expert's training recipe (the parsed ``<key>.yaml``).

    Attributes:
        key: short name of the expert (also the card's ``name`` and the file stem).
        env_id: Gymnasium id.
        algo: algorithm class name in stable-baselines3 or sb3-contrib (``PPO``, ``DQN``, ...),
            or ``ARS-numpy`` (``recipes/ars.py``; hyperparameters are ``ARSConfig`` fields).
        policy: policy class name passed to the algorithm (``MlpPolicy``, ``LinearPolicy``).
        n_envs: number of training environments (a ``DummyVecEnv``).
        total_timesteps: training budget in environment steps.
        seed: training seed (environments, torch, numpy).
        normalize: ``VecNormalize`` keyword arguments, or ``None`` for raw observations.
        hyperparameters: keyword arguments of the algorithm; ``"lin_<x>"`` strings are linear
            schedules from ``x`` to 0 and ``policy_kwargs.activation_fn`` is ``"tanh"`` or
            ``"relu"`` (the rl-baselines3-zoo conventions).
        target: return the expert should reach (mean over the card's evaluation episodes).
        eval_freq: environment steps between two validation runs of the current policy.
        eval_episodes: validation episodes per run (seeds ``VALIDATION_SEED_START + k``).
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
        return [VALIDATION_SEED_START + k for k in range(self.eval_episodes)]

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


def recipe_keys() -> list[str]:
    """Keys of every recipe shipped with the package (sorted)."""
    return sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))


def load_recipe(key_or_path: str | Path) -> Recipe:
    """Read and check a recipe, given its key (``"cartpole"``) or a YAML path.

    Raises:
        RecipeError: the file is missing, a field is unknown or missing, or a value is invalid.

    """
    path = Path(key_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = RECIPES_DIR / f"{key_or_path}.yaml"
    if not path.is_file():
        raise RecipeError(f"no recipe {key_or_path!r}; known: {', '.join(recipe_keys())}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RecipeError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe must be a mapping")
    unknown = sorted(set(data) - set(RECIPE_FIELDS))
    if unknown:
        raise RecipeError(f"{path}: unknown field(s) {unknown}")
    required = ("key", "env_id", "algo", "policy", "n_envs", "total_timesteps", "seed",
                "hyperparameters", "target", "eval_freq")
    missing = [name for name in required if name not in data]
    if missing:
        raise RecipeError(f"{path}: missing field(s) {missing}")
    if data["key"] != path.stem:
        raise RecipeError(f"{path}: key {data['key']!r} differs from the file name")
    try:
        recipe = Recipe(
            key=str(data["key"]),
            env_id=str(data["env_id"]),
            algo=str(data["algo"]),
            policy=str(data["policy"]),
            n_envs=int(data["n_envs"]),
            total_timesteps=int(float(data["total_timesteps"])),
            seed=int(data["seed"]),
            hyperparameters=dict(data["hyperparameters"] or {}),
            target=float(data["target"]),
            eval_freq=int(float(data["eval_freq"])),
            eval_episodes=int(data.get("eval_episodes", 30)),
            normalize=None if not data.get("normalize") else dict(data["normalize"]),
            stop_at=None if data.get("stop_at") is None else float(data["stop_at"]),
            aliases=tuple(str(a) for a in data.get("aliases") or ()),
            env_kwargs=dict(data.get("env_kwargs") or {}),
            source=str(data.get("source", "")),
            resumable=bool(data.get("resumable", False)),
        )
    except (TypeError, ValueError) as exc:
        raise RecipeError(f"{path}: invalid value ({exc})") from None
    for name in ("n_envs", "total_timesteps", "eval_freq", "eval_episodes"):
        if getattr(recipe, name) < 1:
            raise RecipeError(f"{path}: {name} must be >= 1")
    if recipe.resumable and recipe.algo not in RESUMABLE_ALGOS:
        raise RecipeError(f"{path}: resumable training supports {RESUMABLE_ALGOS} only")
    if recipe.resumable and any(isinstance(v, str) and v.startswith("lin_")
                                for v in recipe.hyperparameters.values()):
        # SB3 computes schedule progress from the steps of the current learn() call only
        raise RecipeError(f"{path}: schedules (lin_...) do not survive a resume")
    return recipe


__all__ = [
    "CHECKPOINTS_DIR",
    "RECIPES_DIR",
    "VALIDATION_SEED_START",
    "Recipe",
    "RecipeError",
    "load_recipe",
    "recipe_keys",
]
