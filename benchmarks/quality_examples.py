"""Quality metrics of expert, noisy, mixed and random datasets of one environment: a table.

Usage: ``python benchmarks/quality_examples.py [--env cartpole] [--episodes 50]``. Collects
(into a temporary folder) the curated expert with dataset seeds 0 and 1, with action noise
0.1 and 0.3, a 50 % expert/random mixture, and a random-policy dataset; prints each dataset's
metrics and each one's behaviour divergence from the seed-0 expert dataset (Markdown table).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from imitation_datasets.cli import main as il_datasets
from imitation_datasets.experts import Experts
from imitation_datasets.quality import QualityOptions, compare_datasets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="cartpole")
    parser.add_argument("--episodes", type=int, default=50)
    args = parser.parse_args()
    env_id = Experts.get_expert(args.env).env_id
    variants = {
        "expert, seed 0": [args.env, "--seed", "0"],
        "expert, seed 1": [args.env, "--seed", "1"],
        "noise 0.1": [args.env, "--seed", "2", "--action-noise", "0.1"],
        "noise 0.3": [args.env, "--seed", "3", "--action-noise", "0.3"],
        "50 % random episodes": [args.env, "--seed", "4", "--random-episodes", "0.5"],
        "random policy": [env_id, "--random", "--seed", "5"],
    }
    options = QualityOptions()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in variants.items():
            out = Path(tmp) / name.replace(" ", "_").replace(",", "").replace("%", "pc")
            assert il_datasets(["collect", *extra, "--episodes", str(args.episodes),
                                "--workers", "1", "--quiet", "--out", str(out)]) == 0
        reference = Path(tmp) / "expert_seed_0"
        for name in variants:
            out = Path(tmp) / name.replace(" ", "_").replace(",", "").replace("%", "pc")
            start = time.perf_counter()
            result = compare_datasets(out, reference, options)
            seconds = time.perf_counter() - start
            a, between = result["a"], result["between"]
            rows.append([name, f"{a['returns']['mean']:.1f}",
                         f"{a['returns']['normalised_score']:.1f}",
                         f"{a['states']['knn_entropy_env_units']:.2f}",
                         f"{a['actions']['consistency']:.3f}",
                         f"{a['transitions']['knn_state_change_variance']:.4f}",
                         f"{a['expert']['action_divergence']:.3f}",
                         f"{a['expert']['episode_weighted_divergence']:.3f}",
                         f"{a['flags']['duplicates']}/{a['flags']['outliers']}",
                         f"{between['states']['homogeneity']:.4f}",
                         f"{between['states']['p_value']:.3f}", f"{seconds:.1f}"])
    header = ["dataset", "return", "normalised", "state entropy (env units)",
              "action consistency", "s'-s variance", "expert divergence (steps)",
              "expert divergence (episodes)", "dup/outlier eps",
              "H vs seed 0", "p vs seed 0", "seconds"]
    print(f"{env_id}, {args.episodes} episodes each; sample {options.sample_size} steps, "
          f"seed {options.seed}, k {options.k}; energy test {options.comparison_size} steps "
          f"per dataset, {options.permutations} episode permutations")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
