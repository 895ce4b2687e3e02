#!/usr/bin/env bash
# The cpu backend against oneDNN on the quick grid's LSTM and GRU cases (infer, fwd_bwd), on
# one thread and on every core, with the spread of each pair's ratio over repetitions: the
# measurement issue 19 asks for. Writes bench/results/cpu-vs-onednn-<date>-spread.md (or OUT).
#
#   bench/cpu_vs_onednn.sh [BUILD_DIR] [OUT]     BUILD_DIR: default build (needs gpurnn_bench
#                                                 built with oneDNN); REPS=5, MIN_TIME=0.2
#
# Repetitions run in random order (--benchmark_enable_random_interleaving), so a pair's two rows
# see the same drift of the machine; the report gives each pair's median ratio, its min and max
# over the repetitions and a verdict (faster / within noise / slower).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench/results/cpu-vs-onednn-$(date +%F)-spread.md}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.2}
bench="$build/bench/gpurnn_bench"
[[ -x "$bench" ]] || { echo "cpu_vs_onednn.sh: $bench not found (cmake --build $build --target gpurnn_bench)" >&2; exit 2; }
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include kernels || echo "+changes")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "# cpu vs onednn with the spread over repetitions, at $commit"
  echo
  echo "Command: \`bench/cpu_vs_onednn.sh\` (REPS=$reps, MIN_TIME=$min_time s, random interleaving)."
  echo "Ratio = onednn µs/step / cpu µs/step (above 1.00: cpu faster); min and max are over the"
  echo "repetitions; oneDNN's rows reorder their weights once outside the timing, the cpu backend"
  echo "packs them in every call."
} > "$tmp/out.md"
for threads in 1 0; do
  label=$([[ $threads == 0 ]] && echo "every core" || echo "1 thread")
  echo "cpu_vs_onednn.sh: $label, $reps repetitions..." >&2
  "$bench" --threads=$threads --benchmark_filter='^(lstm|gru)/(infer|fwd_bwd)/(cpu|onednn)/' \
    --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" --benchmark_out="$tmp/t$threads.json" \
    --benchmark_out_format=json > "$tmp/t$threads.log"
  { echo; echo "## $label"; echo
    bench/report "$tmp/t$threads.json" --pair cpu onednn --header --commit "$commit"; } >> "$tmp/out.md"
done
mv "$tmp/out.md" "$out.tmp" && mv "$out.tmp" "$out"
echo "cpu_vs_onednn.sh: wrote $out" >&2
