"""Digests of each arithmetic step a benchmark cell takes: compare two machines or torch versions.

A cell trains in torch's CPU-independent mode (`benchmark/reproducible.py`). Whether two
machines give the same cells comes down to the ops below giving the same bits: run this script
on both and compare the lines (`diff`). It prints the machine (CPU model, C library), the float
functions of the C maths library (which ATen's non-vectorised kernels call), then, in a process
started with the cells' environment, torch's version and one digest per op: linear layers and
matrix products (MKL), element-wise functions, reductions, the random streams, a layer's
initialisation, a gradient and Adam steps.

Measured 2026-11-29: on this AMD EPYC (AVX-512, glibc 2.36) torch 2.13.0 (CPU build) and 2.11.0
(CUDA 13 build) print the same lines; a lent Intel Xeon with AMX (glibc 2.39, the same torch
2.11.0 build) agreed on every line the script then had except `adam` (ten Adam steps), so
cells trained there differ. The lines from `lerp` to `pow_scalar`, the element-wise steps of an
Adam step one by one, were added afterwards to find which one it is on the next such machine.
The prime suspect is the square root: torch's float32 `sqrt` on CPU is not the correctly rounded
one (`sqrt_not_correctly_rounded`: the fraction of results that differ from it, 0.17 here), so
its result depends on the implementation that computes it, while every other step of Adam is
plain IEEE arithmetic. Checked 2026-11-30 (calling MKL through torch's library with ctypes):
torch's float32 `sqrt`, `exp`, `tanh` and `log` are MKL's vector-maths (VML) functions, bit for
bit, and MKL reports this AMD EPYC as a generic "Intel(R) Architecture processor": the `sqrt`
bits are the same under every `MKL_CBWR` branch and every VML accuracy mode here. `exp`, `tanh`
and `log` agreed with the Intel machine, so VML does not differ there wholesale; whether its
`sqrt` does is what the `sqrt` line on the next such machine will tell, and `adam_exact_sqrt`
(the same ten steps written out, with IEEE's correctly rounded square root; `adam_written_out`,
with torch's, prints the `adam` digest) whether that square root alone removes the difference.

    python benchmarks/torch_ops.py
"""

import ctypes
import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def machine() -> None:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines
                  if line.startswith("model name")), platform.processor())
    print("cpu", model)
    print("libc", *platform.libc_ver())
    libm = ctypes.CDLL("libm.so.6")
    x = (np.random.default_rng(0).standard_normal(100_000) * 4).astype(np.float32)
    for name in ("tanhf", "expf", "logf", "log1pf", "expm1f", "sinf"):
        function = getattr(libm, name)
        function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]
        args = np.abs(x) + 1e-3 if name == "logf" else x
        print("libm", name, digest(np.array([function(float(v)) for v in args], np.float32)))


def torch_ops() -> None:
    import torch

    torch.set_num_threads(1)
    print("torch", torch.__version__, torch.backends.cpu.get_cpu_capability())
    rng = np.random.default_rng(1)
    a = torch.from_numpy(rng.standard_normal((256, 105)).astype(np.float32))
    w = torch.from_numpy(rng.standard_normal((256, 105)).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal(256).astype(np.float32))
    print("op linear", digest(torch.nn.functional.linear(a, w, b).numpy()))
    print("op matmul", digest((a @ w.T).numpy()))
    big = torch.from_numpy(rng.standard_normal(100_000).astype(np.float32) * 4)
    for name in ("tanh", "exp", "sigmoid", "sin"):
        print("op", name, digest(getattr(torch, name)(big).numpy()))
    print("op log", digest(torch.log(big.abs() + 1e-3).numpy()))
    print("op log_softmax", digest(torch.log_softmax(big.reshape(1000, 100), -1).numpy()))
    print("op softplus", digest(torch.nn.functional.softplus(big).numpy()))
    print("op sum", digest(big.reshape(1000, 100).sum(-1).numpy()), digest(big.sum().numpy()))
    torch.manual_seed(0)
    print("op randn", digest(torch.randn(10_000).numpy()))
    print("op rand", digest(torch.rand(10_000).numpy()))
    print("op init", digest(torch.nn.Linear(105, 256).weight.detach().numpy()))
    x = a.clone().requires_grad_(True)
    torch.tanh(torch.nn.functional.linear(x, w, b)).sum().backward()
    print("op grad", digest(x.grad.numpy()))
    # the element-wise steps of torch's Adam (single-tensor path), one by one
    g, m, v = (torch.from_numpy(rng.standard_normal(100_000).astype(np.float32)) for _ in "gmv")
    v = v.abs()
    print("op lerp", digest(m.clone().lerp_(g, 0.1).numpy()))
    print("op mul_addcmul", digest(v.clone().mul_(0.999).addcmul_(g, g, value=0.001).numpy()))
    print("op sqrt", digest(v.sqrt().numpy()))
    exact = np.sqrt(v.numpy().astype(np.float64)).astype(np.float32)  # correctly rounded
    print("op sqrt_not_correctly_rounded", f"{np.mean(v.sqrt().numpy() != exact):.4f}")
    print("op div_add", digest((v.sqrt() / 0.0316).add_(1e-8).numpy()))
    print("op addcdiv", digest(m.clone().addcdiv_(g, v + 1e-3, value=-0.00123).numpy()))
    print("op pow_scalar", digest(torch.tensor([0.999 ** s for s in range(1, 50)]).numpy()))
    p = torch.nn.Parameter(w.clone())
    optimizer = torch.optim.Adam([p], lr=1e-3)
    for _ in range(10):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
    print("op adam", digest(p.detach().numpy()))
    # the same ten steps written out (torch's single-tensor Adam), once with torch's sqrt (must
    # print the `adam` digest) and once with the correctly rounded one (numpy's float32 sqrt is
    # IEEE's): if only `adam` and `sqrt` differ on a machine, `adam_exact_sqrt` tells whether a
    # correctly rounded square root removes the difference
    for name, sqrt in (("adam_written_out", torch.sqrt),
                       ("adam_exact_sqrt", lambda t: torch.from_numpy(np.sqrt(t.numpy())))):
        print("op", name, digest(adam_steps(w.clone(), sqrt).numpy()))


def adam_steps(p, sqrt, steps: int = 10, lr: float = 1e-3, betas=(0.9, 0.999), eps=1e-8):
    """``steps`` steps of torch's single-tensor Adam on ``sum(p * p)``, its square root ``sqrt``."""
    import torch

    m, v = torch.zeros_like(p), torch.zeros_like(p)
    for step in range(1, steps + 1):
        grad = 2 * p  # the gradient of sum(p * p), as autograd computes it (p + p)
        m.lerp_(grad, 1 - betas[0])
        v.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
        step_size = lr / (1 - betas[0] ** step)
        denom = (sqrt(v) / (1 - betas[1] ** step) ** 0.5).add_(eps)
        p.addcdiv_(m, denom, value=-step_size)
    return p


if __name__ == "__main__":
    if sys.argv[1:] == ["--ops"]:
        torch_ops()
        sys.exit()
    from imitation_datasets.benchmark.reproducible import CELL_ENVIRONMENT

    machine()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKL_", "ONEDNN_", "ATEN_"))}
    sys.stdout.flush()
    subprocess.run([sys.executable, __file__, "--ops"], env={**env, **CELL_ENVIRONMENT},
                   check=True)
