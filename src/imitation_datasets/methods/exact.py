"""Arithmetic whose bits do not depend on the CPU: a correctly rounded square root and its Adam.

torch's element-wise ``sqrt`` on CPU is MKL's vector-maths function, which is not correctly
rounded (about 17 % of float32 results differ from the correctly rounded value) and whose bits
depend on the CPU it runs on, even with ``MKL_CBWR=COMPATIBLE``: on 2026-12-01 an Intel Xeon with
AVX-512 and an AMD EPYC gave other bits for the same input, and so did the same binary under
``qemu-x86_64 -cpu EPYC`` (its approximate reciprocal square root instructions differ from the
hardware's). That ``sqrt`` was the only op a benchmark cell uses whose bits differed among those
three (``benchmarks/torch_ops.py`` prints a digest per op): linear layers and their gradients,
``tanh``, ``exp``, ``log``, softmax, ``std``, norms, layer norm and the random streams agreed.
Adam takes that square root at every step, so cells trained with ``torch.optim.Adam`` differed
from the 9th digit on between machines, and chaotic environments amplify such differences into
other scores.

:func:`sqrt` is IEEE 754's square root, which every CPU computes correctly rounded (NumPy's
``sqrt`` is the hardware instruction); :class:`Adam` is ``torch.optim.Adam``'s single-tensor step,
operation for operation, with that square root. Everything a benchmark cell trains goes through
them (see :mod:`imitation_datasets.benchmark.reproducible`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

__all__ = ["Adam", "sqrt"]


def sqrt(tensor: torch.Tensor) -> torch.Tensor:
    """The correctly rounded square root of ``tensor``, element-wise (a new tensor, no grad).

    On CPU it is NumPy's (the IEEE instruction); elsewhere torch's (CUDA's ``sqrt`` is correctly
    rounded by default).
    """
    if tensor.device.type != "cpu":
        return tensor.sqrt()
    return torch.from_numpy(np.asarray(np.sqrt(tensor.detach().numpy())))  # 0-d: not a scalar


class Adam(torch.optim.Adam):
    """``torch.optim.Adam`` with a correctly rounded square root (module docstring).

    Same arguments, same ``state_dict`` (``step``, ``exp_avg``, ``exp_avg_sq`` per parameter) and,
    but for the square root, the same arithmetic as torch's single-tensor step. Options that
    step does not cover (``amsgrad``, ``maximize``, ``foreach``, ``fused``, ``capturable``,
    ``differentiable``, ``decoupled_weight_decay``) are refused.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         foreach=False)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One Adam step of every parameter with a gradient; ``closure`` re-evaluates the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            unsupported = [name for name in ("amsgrad", "maximize", "foreach", "fused",
                                             "capturable", "differentiable",
                                             "decoupled_weight_decay") if group.get(name)]
            if unsupported:
                raise ValueError(f"exact.Adam: option {unsupported[0]!r} is not supported")
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse or torch.is_complex(param):
                    raise ValueError("exact.Adam: sparse gradients and complex parameters "
                                     "are not supported")
                self._update(param, lr, beta1, beta2, eps, weight_decay)
        return loss

    def _update(self, param: torch.Tensor, lr: float, beta1: float, beta2: float, eps: float,
                weight_decay: float) -> None:
        """One parameter's step: torch's ``_single_tensor_adam`` with :func:`sqrt`."""
        state = self.state[param]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=torch.float32)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        grad = param.grad
        assert grad is not None  # step() skips parameters without one
        exp_avg, exp_avg_sq, step_t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = step_t.item()
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        denom = (sqrt(exp_avg_sq) / math.sqrt(bias_correction2)).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)
