#!/usr/bin/env bash
# The pointer-network recipe aimed at Vinyals, Fortunato and Jaitly (2015), Tables 1 and 2:
# tsp n=5 and n=10 (optimal 2.12 / 2.87, pointer net 2.12 / 2.88) and convex hull n=50 (72.6%
# exact, 99.9% area coverage). Each run trains on fresh generated examples (batch 128, so
# STEPS x 128 examples; the paper used 1M) at a constant learning rate (pointer nets sit at the
# input-order solution for the first ~1,000 steps, and a decaying rate can end the run there),
# then decodes 1,000 held-out examples with a beam. Prints a markdown table of the result lines.
# Sized for a GPU; on the 2-core CPU machine use bench/train_tasks.sh's defaults (n=5 tsp,
# n=10 hull) instead.
# Usage: bench/pointer_paper.sh [BUILD_DIR] [DEVICE]   (defaults: build-gpu, cuda:0)
#   STEPS (default 20000), HIDDEN (256), BEAM (5)
set -euo pipefail
build="${1:-build-gpu}"
device="${2:-cuda:0}"
steps="${STEPS:-20000}"
hidden="${HIDDEN:-256}"
beam="${BEAM:-5}"
gpurnn="$build/gpurnn"
[[ -x "$gpurnn" ]] || { echo "pointer_paper.sh: no $gpurnn; build first" >&2; exit 2; }

echo "## Pointer networks against Vinyals et al. (2015)"
echo
echo "- device: $device ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || echo cpu)), date $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)"
echo "- recipe: lstm hidden $hidden, additive attention, batch 128, adam lr 1e-3 constant, clip 2, $steps steps, beam $beam"
echo
echo "| run | result |"
echo "|---|---|"
run() {
  local name="$1"
  shift
  local line
  line=$("$gpurnn" train "$@" --device "$device" --hidden "$hidden" --batch 128 --steps "$steps" --lr 1e-3 \
    --schedule constant --warmup 0 --clip 2 --beam "$beam" --progress none | grep '^result: ')
  echo "| $name | \`${line#result: }\` |"
}
run "tsp n=5" tsp --points 5
run "tsp n=10" tsp --points 10
run "convex-hull n=50" convex-hull --points 50
