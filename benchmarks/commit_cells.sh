#!/usr/bin/env bash
# Commit a long benchmark run's finished cells as they land: every INTERVAL seconds (default 600),
# if RESULTS/cells has new or changed cell files, regenerate RESULTS' report and the README's
# results blocks from every committed-or-new cell, then commit RESULTS and README.md (only those
# paths: other staged work is left alone). Run it beside `benchmarks/cell_queue.py` or
# `il-datasets benchmark` (which hold RESULTS' writer lock; this only reads cells and writes the
# report files, atomically), so a session that ends abruptly loses no finished cell.
#
# Usage: nohup benchmarks/commit_cells.sh RESULTS "what the run is" [INTERVAL] > log 2>&1 &
#   e.g. benchmarks/commit_cells.sh results_mujoco "BC/DAgger at 1, 5, 100 demos, seeds 0-4"
# Stop it with kill; it commits nothing while no cell changed.
set -uo pipefail  # not -e: a failed report or commit is logged and tried again next round
results="${1:?usage: commit_cells.sh RESULTS DESCRIPTION [INTERVAL]}"
what="${2:?usage: commit_cells.sh RESULTS DESCRIPTION [INTERVAL]}"
interval="${3:-600}"
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
[ -d "$results/cells" ] || { echo "commit_cells.sh: $results/cells: no such folder" >&2; exit 2; }
while true; do
  sleep "$interval"
  changed=$(git status --porcelain -- "$results/cells" | wc -l)
  if [ "$changed" -gt 0 ]; then
    if il-datasets benchmark-report "$results" > /dev/null \
        && python benchmarks/readme_results.py > /dev/null \
        && git add -- "$results" README.md \
        && git commit -q -m "Results: $changed finished cell file(s) in $results ($what); report and README results blocks regenerated" -- "$results" README.md; then
      echo "$(date -u +%FT%TZ) committed $changed cell file(s)"
    else
      echo "$(date -u +%FT%TZ) commit of $changed cell file(s) failed; trying again in $interval s" >&2
    fi
  fi
done
