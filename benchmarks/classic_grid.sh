#!/usr/bin/env bash
# The classic-control benchmark of every method, in the order that gives usable results first.
# Each phase is one resumable `il-datasets benchmark` invocation into results/: finished cells
# are skipped, so rerunning this script continues where it stopped. Every invocation rewrites
# results/benchmark_results.{json,md} and the plots from every cell in the folder.
#
#   1. the table: all methods x 6 envs, the protocol's 100 demonstrations, seed 0, then seeds 0-4
#   2. the 10-demonstration cells of the targets (CartPole, Acrobot, LunarLander, Pendulum), seed
#      0, then the online methods' ones on 5 seeds (the targets need 5: benchmark/targets.yaml)
#   3. the sample-efficiency curves: 1, 5, 10, 25 demonstrations on those four envs, seed 0 (every
#      method's curve first), then 5 seeds
#
# Usage: benchmarks/classic_grid.sh [WORKERS]   (default 2; data cached in ./benchmark_data)
set -euo pipefail
workers="${1:-2}"
all_envs=cartpole,acrobot,mountaincar,lunarlander,pendulum,mountaincarcontinuous
curve_envs=cartpole,acrobot,lunarlander,pendulum
run() { il-datasets benchmark --out results --data benchmark_data --workers "$workers" --quiet "$@"; }
run --envs "$all_envs" --seeds 1
run --envs "$curve_envs" --demos 10 --seeds 1
run --envs "$curve_envs" --demos 10 --seeds 5 --methods gail,gaifo,airl,sqil,iq_learn_online
run --envs "$all_envs" --seeds 5
run --envs "$curve_envs" --demos 1,5,10,25 --seeds 1
run --envs "$curve_envs" --demos 1,5,10,25 --seeds 5
