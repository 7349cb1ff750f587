"""IL-Datasets 1.0.0's ``imitation_datasets.dataset.metrics``: performance, AER and accuracy.

The formulas and errors of 1.0.0. The benchmark keeps its own statistics
(:mod:`imitation_datasets.core.metrics`: IQM, bootstrap intervals...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def performance(agent_reward: float | Sequence[float] | np.ndarray, teacher_reward: float,
                random_reward: float) -> dict[str, Any]:
    """Performance ``(agent - random) / (teacher - random)``: 0 is random, 1 is the teacher.

    Args:
        agent_reward: one return, or a list/array of episode returns.
        teacher_reward: the teacher's (average) return, a number.
        random_reward: the random policy's (average) return, a number.

    Returns:
        ``{"performance": mean, "performance_std": population std}`` (std 0 for one number).

    Raises:
        ValueError: a reference is a list/array, or the teacher's return is below the random
            policy's (1.0.0's errors); also when they are equal (1.0.0 divided by zero).
    """
    if isinstance(teacher_reward, list | np.ndarray):
        raise ValueError("Teacher reward should not be a list")
    if isinstance(random_reward, list | np.ndarray):
        raise ValueError("Random reward should not be a list")
    teacher, random = float(teacher_reward), float(random_reward)
    if teacher < random:
        raise ValueError("Random reward should lesser than the teacher's.")
    if teacher == random:
        raise ValueError("Teacher and random rewards are equal: performance is undefined")
    if isinstance(agent_reward, list | tuple | np.ndarray):
        values = (np.asarray(agent_reward, dtype=np.float64) - random) / (teacher - random)
        return {"performance": values.mean(), "performance_std": values.std()}
    agent = float(agent_reward)  # type: ignore[arg-type]
    return {"performance": (agent - random) / (teacher - random), "performance_std": 0}


def average_episodic_reward(agent_reward: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """AER: ``{"aer": mean, "aer_std": population std}`` of the episode returns."""
    values = np.asarray(agent_reward, dtype=np.float64)
    return {"aer": values.mean(), "aer_std": values.std()}


def accuracy(prediction: torch.Tensor, ground_truth: torch.Tensor) -> float:
    """Percentage (0-100) of rows whose argmax logit is the ground-truth class.

    Args:
        prediction: ``(N, classes)`` logits.
        ground_truth: ``(N,)`` class indices.

    Raises:
        ValueError: not tensors, ``prediction`` not 2-D or ``ground_truth`` not 1-D (1.0.0's
            errors); also when their row counts differ or they are empty.
    """
    if not isinstance(prediction, torch.Tensor) or not isinstance(ground_truth, torch.Tensor):
        raise ValueError("'prediction' and 'ground truth' should be a tensor")
    if prediction.dim() != 2:
        raise ValueError("'prediction' and 'ground truth' need to be 2 dimensional.")
    if ground_truth.dim() != 1:
        raise ValueError("'ground truth' need to be 1 dimensional.")
    if len(prediction) != len(ground_truth) or len(ground_truth) == 0:
        raise ValueError(f"'prediction' has {len(prediction)} rows and 'ground truth' "
                         f"{len(ground_truth)}: they must match and not be empty")
    prediction, ground_truth = prediction.detach().cpu(), ground_truth.detach().cpu()
    hits = (prediction.argmax(1) == ground_truth).sum().item()
    return hits / ground_truth.size(0) * 100
