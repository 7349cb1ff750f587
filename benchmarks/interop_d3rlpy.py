"""d3rlpy 2.8.1 with our data, in its own venv (it pins gymnasium==1.0.0).

usage: python benchmarks/interop_d3rlpy.py [--venv /tmp/venv-d3rlpy] [--episodes 20]

Runs inside the venv (``--system-site-packages``; d3rlpy's gymnasium 1.0.0 shadows ours there):
1. ``to_d3rlpy`` of a CartPole expert dataset: episodes, steps, terminals/timeouts, transitions;
2. the same data exported to Minari and read by d3rlpy's own ``d3rlpy.datasets.get_minari``:
   how many (observation, action) pairs it mispairs (it stacks T + 1 observations per episode
   against T actions);
3. d3rlpy's DiscreteBC trained on ``to_d3rlpy``'s dataset (2000 updates), evaluated on 10
   CartPole-v1 episodes;
4. ``tests/test_interop_d3rlpy.py`` (skipped where d3rlpy is missing) with d3rlpy installed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def inside(episodes: int) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import d3rlpy
    import gymnasium as gym
    import numpy as np
    import torch

    from imitation_datasets.controller import Controller
    from imitation_datasets.data.interop_d3rlpy import to_d3rlpy
    from imitation_datasets.data.parquet import read_parquet
    from imitation_datasets.dataset import to_minari
    from imitation_datasets.functions import baseline_collate, baseline_enjoy

    torch.set_num_threads(1)
    print(f"d3rlpy {d3rlpy.__version__}, gymnasium {gym.__version__} (venv)")
    tmp = Path(tempfile.mkdtemp())
    os.environ["MINARI_DATASETS_PATH"] = str(tmp / "minari")
    path = Controller(baseline_enjoy, baseline_collate, episodes=episodes, threads=1, path=tmp,
                      progress=False).start({"game": "cartpole", "mode": "all"})
    arrays = read_parquet(path)[0]
    data = to_d3rlpy(path)
    print(f"to_d3rlpy: {data.size()} episodes, {sum(e.size() for e in data.episodes)} steps "
          f"(ours: {arrays.n_episodes}, {arrays.n_steps}); transitions {data.transition_count} "
          f"(truncated episodes' last steps have no next observation in d3rlpy)")
    to_minari(path, "il-datasets/cartpole/expert-v0")
    theirs, _ = d3rlpy.datasets.get_minari("il-datasets/cartpole/expert-v0")
    obs = np.concatenate([e.observations for e in theirs.episodes])
    acts = np.concatenate([e.actions for e in theirs.episodes]).reshape(-1)
    n = min(len(obs), arrays.n_steps)
    wrong = int(np.sum(np.any(obs[:n] != arrays.obs[:n], axis=1)))
    print(f"d3rlpy.datasets.get_minari on the Minari export: {len(obs)} observations for "
          f"{len(acts)} actions; {wrong} of the first {n} observations are not the one the "
          "action was taken in")
    bc = d3rlpy.algos.DiscreteBCConfig(batch_size=256).create(device="cpu")
    bc.fit(data, n_steps=2000, n_steps_per_epoch=2000, show_progress=False, save_interval=10**9,
           experiment_name="interop", logger_adapter=d3rlpy.logging.NoopAdapterFactory())
    env = gym.make("CartPole-v1")
    returns = []
    for seed in range(10):
        o, _ = env.reset(seed=10**6 + seed)
        total, done = 0.0, False
        while not done:
            o, r, terminated, truncated, _ = env.step(int(bc.predict(o[None])[0]))
            total += float(r)
            done = terminated or truncated
        returns.append(total)
    print(f"d3rlpy DiscreteBC on to_d3rlpy's data, 2000 updates: return "
          f"{np.mean(returns):.1f} +- {np.std(returns):.1f} over 10 episodes (expert "
          f"{arrays.returns.mean():.1f})")
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    str(HERE.parent / "tests" / "test_interop_d3rlpy.py")], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path("/tmp/venv-d3rlpy"))
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args.episodes)
        return
    sys.path.insert(0, str(HERE))
    from interop_venv import ensure_venv, run

    python = ensure_venv(args.venv, "d3rlpy==2.8.1")
    run(python, __file__, "--inside", "--episodes", str(args.episodes))


if __name__ == "__main__":
    main()
