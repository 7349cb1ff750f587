"""imitation 1.0.1 reading our data without our package, in its own venv (gymnasium 0.29).

usage: python benchmarks/interop_imitation.py [--venv /tmp/venv-imitation] [--episodes 20]

1. Here (our environment): a CartPole expert dataset, written with ``to_imitation`` as the
   trajectories folder imitation saves itself, and the expected arrays as a plain ``.npz``.
2. In the venv (imitation 1.0.1, gymnasium 0.29; our package is never imported there):
   ``imitation.data.serialize.load(folder)``, every array compared with the expected ones,
   then imitation's own BC trained on the trajectories (2000 batches) and evaluated on 10
   CartPole-v1 episodes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def inside(folder: Path, expected: Path) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import gymnasium as gym
    import imitation
    import numpy as np
    import torch
    from imitation.algorithms import bc
    from imitation.data import rollout, serialize

    assert "imitation_datasets" not in sys.modules
    torch.set_num_threads(1)
    print(f"imitation {imitation.__version__}, gymnasium {gym.__version__} (venv)")
    trajectories = serialize.load(folder)
    ref = np.load(expected, allow_pickle=False)
    starts, lengths = ref["starts"], ref["lengths"]
    same = True
    for e, trajectory in enumerate(trajectories):
        rows = slice(starts[e], starts[e] + lengths[e])
        same &= np.array_equal(trajectory.obs[:-1], ref["obs"][rows])
        same &= np.array_equal(trajectory.obs[-1], ref["final_obs"][e])
        same &= np.array_equal(trajectory.acts, ref["actions"][rows])
        same &= np.array_equal(trajectory.rews, ref["rewards"][rows])
        same &= bool(trajectory.terminal) == bool(ref["terminated"][rows][-1])
    print(f"serialize.load: {len(trajectories)} {type(trajectories[0]).__name__}, "
          f"{sum(len(t) for t in trajectories)} steps; every array equal to ours: {same}")
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(0)
    trainer = bc.BC(observation_space=env.observation_space, action_space=env.action_space,
                    demonstrations=rollout.flatten_trajectories(list(trajectories)), rng=rng,
                    batch_size=256)
    trainer.train(n_batches=2000, log_interval=10**9, progress_bar=False)
    returns = []
    for seed in range(10):
        obs, _ = env.reset(seed=10**6 + seed)
        total, done = 0.0, False
        while not done:
            action, _ = trainer.policy.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    print(f"imitation BC on the trajectories, 2000 batches: return {np.mean(returns):.1f} +- "
          f"{np.std(returns):.1f} over 10 episodes (expert {ref['returns'].mean():.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path("/tmp/venv-imitation"))
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--inside", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(*args.inside)
        return
    import numpy as np

    from imitation_datasets.controller import Controller
    from imitation_datasets.data.interop_imitation import to_imitation
    from imitation_datasets.data.parquet import read_parquet
    from imitation_datasets.functions import baseline_collate, baseline_enjoy

    sys.path.insert(0, str(HERE))
    from interop_venv import ensure_venv, run

    tmp = Path(tempfile.mkdtemp())
    path = Controller(baseline_enjoy, baseline_collate, episodes=args.episodes, threads=1,
                      path=tmp, progress=False).start({"game": "cartpole", "mode": "all"})
    arrays = read_parquet(path)[0]
    folder = to_imitation(path, tmp / "trajectories")
    expected = tmp / "expected.npz"
    np.savez(expected, obs=arrays.obs, final_obs=arrays.final_obs, actions=arrays.actions,
             rewards=arrays.rewards, terminated=arrays.terminated, starts=arrays.starts,
             lengths=arrays.lengths, returns=arrays.returns)
    print(f"wrote {folder} ({arrays.n_episodes} episodes) with to_imitation")
    python = ensure_venv(args.venv, "imitation==1.0.1")
    run(python, __file__, "--inside", str(folder), str(expected))


if __name__ == "__main__":
    main()
