#!/usr/bin/env bash
# Trains every `gpurnn train` task on its defaults and prints a markdown table of their
# `result:` lines (the metric beside the task's trivial baseline, and the wall time), with the
# machine, the date and the commit. Usage: bench/train_tasks.sh [BUILD_DIR] [extra train flags]
# TASKS="tsp sort" bench/train_tasks.sh ... runs only those tasks.
set -euo pipefail
build="${1:-build}"
shift || true
gpurnn="$build/gpurnn"
[[ -x "$gpurnn" ]] || { echo "train_tasks.sh: no $gpurnn; build first (cmake --build $build)" >&2; exit 2; }

echo "## gpurnn train, every task on its defaults"
echo
echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- date: $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD), flags: ${*:-(none)}"
echo
echo "| task | result |"
echo "|---|---|"
for task in ${TASKS:-charlm timeseries adding copy classify translate sort convex-hull tsp}; do
  line=$("$gpurnn" train "$task" --progress none "$@" | grep '^result: ')
  echo "| $task | \`${line#result: }\` |"
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
