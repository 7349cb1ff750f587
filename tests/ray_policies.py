"""Policies for the Ray tests, in an importable module so Ray workers can load them."""

import time

import numpy as np

from imitation_datasets.experts.policy import CallablePolicy


def balance(obs):
    return (obs[:, 2] + 0.5 * obs[:, 3] > 0).astype(np.int64)


def slow_balance(obs):
    time.sleep(0.002)
    return balance(obs)


def policy(slow: bool = False) -> CallablePolicy:
    # the same name for both: the dataset must not depend on the speed of the policy
    return CallablePolicy(slow_balance if slow else balance, "CartPole-v1", name="balance-ray")
