"""Online IQ-Learn's per-environment choice of the value term's rows (see its yaml)."""

from __future__ import annotations

import torch

from imitation_datasets.methods import load_config
from imitation_datasets.methods.iq_learn import IQLearnConfig, iq_loss

# None: value_expert online was measured better on LunarLander only on test seeds (the yaml's
# comment), which must not choose a config.
VALUE_EXPERT_ONLINE: set[str] = set()


def test_value_term_rows_per_environment() -> None:
    for env_id in ("CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3",
                   "Pendulum-v1", "MountainCarContinuous-v0"):
        online, offline = (load_config(name, env_id)
                           for name in ("iq_learn_online", "iq_learn_offline"))
        assert isinstance(online, IQLearnConfig) and isinstance(offline, IQLearnConfig)
        assert online.value_states == ("expert" if env_id in VALUE_EXPERT_ONLINE else "all")
        assert online.chi2_states == "expert" and offline.value_states == "all"


def test_with_expert_rows_only_the_agent_rows_do_not_move_the_loss() -> None:
    # What value_states: expert (with the chi^2 term on expert rows) means online: the agent's
    # rows of the batch get no gradient, whatever their values.
    q = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = torch.tensor([1.5, 2.5, 0.5, 9.0], requires_grad=True)
    next_v = torch.tensor([1.0, 0.0, 2.0, -3.0], requires_grad=True)
    dones = torch.tensor([0.0, 1.0, 0.0, 0.0])
    is_expert = torch.tensor([True, True, False, False])
    loss, _ = iq_loss(q, v, next_v, dones, is_expert, 0.9, 0.5, "expert", "expert")
    loss.backward()
    grads = [q.grad, v.grad, next_v.grad]
    assert all(grad is not None and grad[2:].abs().sum() == 0 for grad in grads)
    assert all(grad is not None and grad[:2].abs().sum() > 0 for grad in grads[:2])
    # Over every row (the default), the agent's values are pushed down.
    v.grad = None
    loss, _ = iq_loss(q, v, next_v, dones, is_expert, 0.9, 0.5, "all", "expert")
    loss.backward()
    assert v.grad is not None and bool((v.grad[2:] > 0).all())
