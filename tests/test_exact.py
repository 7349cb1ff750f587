"""methods/exact.py: a correctly rounded square root, and torch's Adam with it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from imitation_datasets.methods import exact
from imitation_datasets.methods.bc import BC


def test_sqrt_is_correctly_rounded_including_the_edges():
    rng = np.random.default_rng(0)
    scales = 10.0 ** rng.integers(-30, 30, 100_000)
    values = np.concatenate([np.abs(rng.standard_normal(100_000)) * scales,
                             [0.0, -0.0, 1e-45, 1.2e-38, np.inf, 4.0, 2.0]]).astype(np.float32)
    got = exact.sqrt(torch.from_numpy(values)).numpy()
    reference = np.sqrt(values.astype(np.float64)).astype(np.float32)  # IEEE: double, rounded once
    assert got.dtype == np.float32 and np.array_equal(got, reference)
    assert np.signbit(got[values.size - 6])  # sqrt(-0) is -0
    assert torch.isnan(exact.sqrt(torch.tensor([-1.0, float("nan")]))).all()
    doubles = torch.from_numpy(np.abs(rng.standard_normal(1000)))
    assert exact.sqrt(doubles).dtype == torch.float64
    scalar = exact.sqrt(torch.tensor(2.0))  # a 0-d tensor (SAC's log temperature) stays one
    assert scalar.shape == () and scalar.item() == np.float32(np.sqrt(2.0))


def _train(optimizer_class: type[torch.optim.Optimizer], **options: float) -> tuple[list, dict]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(7, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    optimizer = optimizer_class(model.parameters(), lr=1e-3, **options)
    x, y = torch.randn(64, 7), torch.randn(64, 2)
    for _ in range(30):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()], optimizer.state_dict()


@pytest.mark.parametrize("options", [{}, {"weight_decay": 1e-4, "eps": 1e-5}])
def test_adam_is_torchs_adam_but_for_the_square_root(monkeypatch, options):
    torch_params, torch_state = _train(torch.optim.Adam, **options)
    exact_params, _ = _train(exact.Adam, **options)
    assert not all(torch.equal(a, b) for a, b in zip(torch_params, exact_params))
    monkeypatch.setattr(exact, "sqrt", torch.sqrt)  # the same step with torch's square root
    same_params, same_state = _train(exact.Adam, **options)
    assert all(torch.equal(a, b) for a, b in zip(torch_params, same_params))
    # the same saved state: a resumed run loads it either way
    assert torch_state["param_groups"][0].keys() == same_state["param_groups"][0].keys()
    for index, moments in torch_state["state"].items():
        assert moments.keys() == same_state["state"][index].keys()
        assert all(torch.equal(moments[k], same_state["state"][index][k]) for k in moments)


def test_adam_refuses_options_its_step_does_not_take():
    model = torch.nn.Linear(2, 1)
    optimizer = exact.Adam(model.parameters())
    optimizer.param_groups[0]["amsgrad"] = True
    model(torch.ones(1, 2)).sum().backward()
    with pytest.raises(ValueError, match="'amsgrad' is not supported"):
        optimizer.step()


def test_methods_train_with_it():
    spaces = gym.spaces.Box(-1.0, 1.0, (3,)), gym.spaces.Discrete(2)
    assert isinstance(BC(*spaces).make_optimizer(torch.nn.Linear(2, 1), 1e-3), exact.Adam)
