"""Generative Adversarial Imitation from Observation, GAIfO (Torabi, Warnell and Stone, 2018).

GAIL (:mod:`.gail`) with a discriminator that sees state transitions only: the expert's
actions are never read. Algorithm 1 of the paper, as run here (GAIL's loop, this
discriminator)::

    Initialise pi_theta and D_w: S x S -> (0, 1)
    for i = 0, 1, 2, ...
        1. Execute pi_theta and store the state transitions tau_i = {(s, s')}
        2. Update D_w with the gradient
           E_tau_i[grad_w log D_w(s, s')] + E_tau_E[grad_w log(1 - D_w(s, s'))]
        3. Update pi_theta with a policy-gradient step (the paper: TRPO) on the cost
           log D_w(s, s')

Deviations: GAIL's (:mod:`.gail`: PPO instead of TRPO, our ``D`` is the expert's probability
so the cost is the reward ``-log(1 - D)`` by default, optional gradient penalty, a step
budget, model selection on validation seeds, expert state statistics, DAC's absorbing
states where ``absorbing`` is on: LunarLander-v3 only). ``D``'s input is
``[norm(s), norm(s')]``; ``s'`` after an episode's last step is its final observation, or
with absorbing states the absorbing state when the episode terminated there.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from imitation_datasets.methods.gail import GAIL, GAILConfig


class GAIfO(GAIL):
    """Generative Adversarial Imitation from Observation: GAIL with ``D(s, s')``."""

    name: ClassVar[str] = "gaifo"
    config_class: ClassVar[type[GAILConfig]] = GAILConfig
    pair: ClassVar[Literal["state-action", "state-state"]] = "state-state"
