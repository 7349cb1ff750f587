"""Train a small MLP the way benchmark cells do (exact.Adam, tanh, minibatches); print a digest.

Run by tests/test_benchmark_reproducible.py in subprocesses with different MKL/oneDNN
instruction sets: under the cells' environment the digest must not change. Prints the ATen CPU
capability, the weights' digest and the CPU milliseconds per training step. Optional arguments:
the hidden width (default 64, the classic grid's; the continuous grid's is 256) and the
minibatch size (default 64).
"""

import hashlib
import sys
import time

import numpy as np
import torch

from imitation_datasets.methods import exact

torch.set_num_threads(1)
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((2048, 11)).astype(np.float32))
w = torch.from_numpy(rng.standard_normal((11, 3)).astype(np.float32))
y = torch.tanh(x @ w) + 0.1 * torch.sin(3 * x[:, :3])
torch.manual_seed(0)
width = int(sys.argv[1]) if len(sys.argv) > 1 else 64
batch_size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
model = torch.nn.Sequential(torch.nn.Linear(11, width), torch.nn.Tanh(),
                            torch.nn.Linear(width, width), torch.nn.ReLU(),
                            torch.nn.Linear(width, 3))
optimizer = exact.Adam(model.parameters(), lr=1e-3)
generator = torch.Generator().manual_seed(0)
steps, started = 0, time.process_time()
for _ in range(20):
    for batch in torch.randperm(len(x), generator=generator).split(batch_size):
        steps += 1
        loss = torch.nn.functional.mse_loss(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
digest = hashlib.sha256()
for tensor in model.state_dict().values():
    digest.update(tensor.numpy().tobytes())
milliseconds = (time.process_time() - started) / steps * 1e3
print(torch.backends.cpu.get_cpu_capability(), digest.hexdigest(), f"{milliseconds:.3f}")
