"""Train a small MLP the way benchmark cells do (Adam, tanh, minibatches) and print a digest.

Run by tests/test_benchmark_reproducible.py in subprocesses with different MKL/oneDNN
instruction sets: under the cells' environment the digest must not change.
"""

import hashlib

import numpy as np
import torch

torch.set_num_threads(1)
rng = np.random.default_rng(0)
x = torch.from_numpy(rng.standard_normal((2048, 11)).astype(np.float32))
w = torch.from_numpy(rng.standard_normal((11, 3)).astype(np.float32))
y = torch.tanh(x @ w) + 0.1 * torch.sin(3 * x[:, :3])
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(11, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                            torch.nn.ReLU(), torch.nn.Linear(64, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
generator = torch.Generator().manual_seed(0)
for _ in range(20):
    for batch in torch.randperm(len(x), generator=generator).split(64):
        loss = torch.nn.functional.mse_loss(model(x[batch]), y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
digest = hashlib.sha256()
for tensor in model.state_dict().values():
    digest.update(tensor.numpy().tobytes())
print(torch.backends.cpu.get_cpu_capability(), digest.hexdigest())
