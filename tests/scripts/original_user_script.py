"""A user's script written for IL-Datasets 1.0.0 (its README, docs and default functions).

Run unchanged on this package by ``tests/test_compat_script.py``::

    python original_user_script.py --game cartpole --episodes 6 --threads 2 --mode all

Nothing below knows about this re-implementation: only 1.0.0's public API is used.
"""
import os

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from imitation_datasets import Context, Controller, Experiment, GymWrapper, Policy
from imitation_datasets.args import get_args
from imitation_datasets.baselines.methods import BC
from imitation_datasets.dataset import BaselineDataset, IRLDataset
from imitation_datasets.dataset.huggingface import baseline_to_huggingface
from imitation_datasets.dataset.metrics import accuracy, average_episodic_reward, performance
from imitation_datasets.experts import Experts
from imitation_datasets.functions import baseline_collate, baseline_enjoy
from imitation_datasets.register import classic


def enjoy(expert: Policy, path: str, context: Context) -> bool:
    """1.0.0's way: load the expert, play one episode, save it if it is good enough."""
    done = False
    expert.load()
    env = GymWrapper(expert.get_environment(), version="newest")
    states, actions, rewards = [], [], []
    state = env.reset()
    acc_reward = 0
    while not done:
        action, _ = expert.predict(state)
        states.append(state)
        actions.append(action)
        state, reward, done, _ = env.step(action)
        acc_reward += reward
        rewards.append(reward)
    env.close()
    episode = {
        "obs": np.array(states),
        "actions": np.array(actions),
        "rewards": np.array(rewards),
        "episode_returns": np.array([acc_reward]),
    }
    if acc_reward >= expert.threshold:
        np.savez(f"{path}{context.index}", **episode)
        context.add_log(f"Accumulated reward {acc_reward}")
    return acc_reward >= expert.threshold, acc_reward


def collate(path, data) -> bool:
    """1.0.0's baseline_collate, as users copied it."""
    episode = np.load(f"{path}{data[0]}")
    states = np.ndarray(shape=(0, episode["obs"].shape[1]))
    episodes_starts, actions, rewards, episode_returns = [], [], [], []
    for file in data:
        episode = np.load(f"{path}{file}")
        states = np.append(states, episode["obs"], axis=0)
        actions += episode["actions"].tolist()
        rewards += episode["rewards"].tolist()
        episode_returns += episode["episode_returns"].tolist()
        episode_starts = np.zeros(episode["actions"].shape)
        episode_starts[0] = 1
        episodes_starts += episode_starts.tolist()
    np.savez(f"{path}teacher", obs=states, actions=np.array(actions).reshape(-1),
             rewards=np.array(rewards).reshape(-1),
             episode_returns=np.array(episode_returns).squeeze(),
             episode_starts=np.array(episodes_starts).reshape(-1))
    for file in data:
        os.remove(f"{path}{file}")
    return True


if __name__ == "__main__":
    torch.manual_seed(0)
    args = get_args()

    # ---- data creation with the user's own enjoy and collate
    controller = Controller(enjoy, collate, args.episodes, args.threads)
    controller.start(args)
    teacher = np.load(f"./dataset/{args.game}/teacher.npz")
    assert teacher["episode_starts"].sum() == args.episodes
    assert (teacher["episode_returns"] >= Experts.get_expert(args.game).threshold).all()
    assert not [f for f in os.listdir(f"./dataset/{args.game}") if f[0].isdigit()]

    # ---- and with the default functions (the 1.0.0 README example)
    Controller(baseline_enjoy, baseline_collate, args.episodes, args.threads, "./defaults/").start(
        args)
    defaults = np.load(f"./defaults/{args.game}/teacher.npz")
    assert list(defaults.keys()) == ["obs", "actions", "rewards", "episode_returns",
                                     "episode_starts"]

    # ---- an enjoy function called by hand, as 1.0.0's tests did
    os.makedirs("./by_hand/", exist_ok=True)
    context = Context(Experiment(1, "./by_hand/logs.txt"), 0)
    accepted = baseline_enjoy(Experts.get_expert(args.game), "./by_hand/", context)
    assert accepted is True and os.path.exists("./by_hand/0.npz")

    # ---- a training loop over BaselineDataset
    train = BaselineDataset(f"./dataset/{args.game}/teacher.npz", n_episodes=args.episodes - 1)
    evaluation = BaselineDataset(f"./dataset/{args.game}/teacher.npz",
                                 n_episodes=args.episodes - 1, split="eval")
    environment = gym.make(classic[args.game]["name"])
    model = nn.Sequential(nn.Linear(train.states.shape[-1], 32), nn.ReLU(),
                          nn.Linear(32, environment.action_space.n))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(5):
        for state, action, _ in DataLoader(train, batch_size=128, shuffle=True):
            optimiser.zero_grad()
            loss = loss_fn(model(state.float()), action.squeeze(1).long())
            loss.backward()
            optimiser.step()
    state, action, _ = next(iter(DataLoader(evaluation, batch_size=len(evaluation))))
    acc = accuracy(model(state.float()), action.squeeze(1))
    assert 0 <= acc <= 100

    # ---- an IRL loop: five values in 1.0.0's order
    for state, action, next_state, done, reward in DataLoader(IRLDataset(
            f"./dataset/{args.game}/teacher.npz"), batch_size=256):
        assert done.dtype == torch.bool and reward.dtype == torch.float32
        assert state.shape == next_state.shape and action.shape == (len(state), 1)
        assert (reward == 1).all()  # CartPole pays 1 per step; a swap would show 0/1 flags

    # ---- metrics
    returns = [float(r) for r in teacher["episode_returns"]]
    print("AER", average_episodic_reward(returns))
    print("performance", performance(returns, 500, 22))

    # ---- HuggingFace upload format
    baseline_to_huggingface(f"./dataset/{args.game}/teacher.npz", "./teacher.jsonl")
    with open("./teacher.jsonl") as uploaded:
        assert len(uploaded.read().splitlines()) == len(teacher["obs"])

    # ---- the 1.0.0 baselines
    bc = BC(environment, enjoy_criteria=2, verbose=True)
    bc.train(3, DataLoader(train, batch_size=128, shuffle=True),
             DataLoader(evaluation, batch_size=128))
    metrics = bc._enjoy(teacher_reward=500, random_reward=22)
    print("BC", {key: round(float(value), 3) for key, value in metrics.items()})
    bc.load()
    print("OK")
