#!/usr/bin/env bash
# The cpu backend against oneDNN on the quick grid's LSTM and GRU cases (infer, fwd_bwd), on
# one thread and on every core, with the spread of each pair's ratio over repetitions: the
# measurement issue 19 asks for. The cpu backend runs twice per case: on prepared weights
# (cpu_prepared: Backend::prepare packed them once, before timing, as oneDNN's rows reorder
# theirs) and on the weights (cpu: packed inside every call). Three tables per setting:
# cpu_prepared vs onednn (the target), cpu vs onednn, and cpu_prepared vs cpu (what packing in
# every call costs). Writes bench/results/cpu-vs-onednn-<date>-spread.md (or OUT).
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
  echo "repetitions. oneDNN's rows reorder their weights once, outside the timing; cpu_prepared"
  echo "is the cpu backend on Backend::prepare's prepared weights (packed once, outside the"
  echo "timing); cpu is the cpu backend given the weights (W_hh packed in every call)."
} > "$tmp/out.md"
for threads in 1 0; do
  label=$([[ $threads == 0 ]] && echo "every core" || echo "1 thread")
  echo "cpu_vs_onednn.sh: $label, $reps repetitions..." >&2
  "$bench" --threads=$threads --benchmark_filter='^(lstm|gru)/(infer|fwd_bwd)/(cpu|cpu_prepared|onednn)/' \
    --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" --benchmark_out="$tmp/t$threads.json" \
    --benchmark_out_format=json > "$tmp/t$threads.log"
  { echo; echo "## $label: cpu_prepared vs onednn (prepared weights on both sides)"; echo
    bench/report "$tmp/t$threads.json" --pair cpu_prepared onednn --header --commit "$commit"
    echo; echo "### $label: cpu (packing in every call) vs onednn"; echo
    bench/report "$tmp/t$threads.json" --pair cpu onednn
    echo; echo "### $label: cpu_prepared vs cpu (above 1.00: prepared weights are faster)"; echo
    bench/report "$tmp/t$threads.json" --pair cpu_prepared cpu; } >> "$tmp/out.md"
done
# The batch-1 floor on one thread: reading W_hh's bytes (LSTM H 512: 4 MiB, H 1024: 16 MiB).
echo "cpu_vs_onednn.sh: memory floor..." >&2
"$bench" --benchmark_filter='^floor/' --benchmark_repetitions="$reps" --benchmark_min_time="$min_time" \
  --benchmark_out="$tmp/floor.json" --benchmark_out_format=json > "$tmp/floor.log"
{ echo; echo "## The batch-1 floor: one thread reading an LSTM's W_hh (floor/read rows, median of $reps)"; echo
  echo "| buffer | µs per read | GB/s |"; echo "|---|---:|---:|"
  python3 - "$tmp/floor.json" <<'PY'
import json, statistics, sys
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "aggregate":
        continue
    name = b["run_name"].split("/real_time")[0]
    rows.setdefault(name, []).append((b["real_time"], b["GB_per_s"]))
for name, runs in rows.items():
    print(f"| {name} | {statistics.median(r[0] for r in runs):.1f} | {statistics.median(r[1] for r in runs):.1f} |")
PY
} >> "$tmp/out.md"
mv "$tmp/out.md" "$out.tmp" && mv "$out.tmp" "$out"
echo "cpu_vs_onednn.sh: wrote $out" >&2
