#!/usr/bin/env bash
# The cpu backend in bf16 against oneDNN's bf16 RNN primitive and against itself in f32, on the
# quick grid's LSTM and GRU cases (infer, fwd_bwd) of bench/cpu_vs_onednn.sh, on one thread and on
# every core, with the spread of each pair's ratio over repetitions: issue 30's benchmark. Every
# row runs on prepared weights (cpu_prepared*: Backend::prepare made them once, before timing, as
# oneDNN's rows reorder theirs). Two tables per setting, both pairs from the same run:
# cpu_prepared_bf16 vs onednn_bf16 (the rival in the same dtype) and cpu_prepared_bf16 vs
# cpu_prepared (what bf16 gains or costs over f32). Writes bench/results/cpu-bf16-<date>.md (or OUT).
#
#   bench/cpu_bf16.sh [BUILD_DIR] [OUT]     BUILD_DIR: default build (needs gpurnn_bench built
#                                           with oneDNN); REPS=5, MIN_TIME=0.2
#
# bf16 rows (gpurnn_bench --dtypes=f32,bf16): x, the states, the weights and y in bf16, products
# and cell math in f32 (the README's precision rule; oneDNN's bf16 RNN the same, with an f32 bias
# and LSTM cell state); oneDNN's bf16 outputs are checked against the cpu backend's before timing
# with a bf16 tolerance (bench/bench_onednn.cpp) and a row that fails or that oneDNN refuses on
# this CPU shows the error instead of a time. Repetitions run in random order
# (--benchmark_enable_random_interleaving), so a pair's rows see the same drift of the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench/results/cpu-bf16-$(date +%F).md}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.2}
bench="$build/bench/gpurnn_bench"
[[ -x "$bench" ]] || { echo "cpu_bf16.sh: $bench not found (cmake --build $build --target gpurnn_bench)" >&2; exit 2; }
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include kernels || echo "+changes")
model=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//' || true)
flags=$(grep -o -w 'avx512_bf16\|amx_bf16\|amx_tile\|avx512_fp16\|avx512f' /proc/cpuinfo | sort -u | paste -sd ' ' - || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "# cpu bf16 vs onednn bf16 and vs cpu f32, with the spread over repetitions, at $commit"
  echo
  echo "CPU: ${model:-unknown}; its bf16-related flags: ${flags:-none of avx512f, avx512_bf16, avx512_fp16, amx_tile, amx_bf16}"
  echo
  echo "Command: \`bench/cpu_bf16.sh\` (REPS=$reps, MIN_TIME=$min_time s, random interleaving)."
  echo "Every row is on prepared weights (cpu_prepared*: packed once, outside the timing; oneDNN's"
  echo "rows reorder their weights once, outside the timing). bf16: x, states, weights and y bf16,"
  echo "products and cell math f32 (oneDNN: f32 bias and LSTM cell state; its backward's diff"
  echo "tensors f32, as oneDNN requires). Ratio = RIVAL µs/step / OURS µs/step (above 1.00: the"
  echo "first named is faster); min and max are over the repetitions."
} > "$tmp/out.md"
for threads in 1 0; do
  label=$([[ $threads == 0 ]] && echo "every core" || echo "1 thread")
  echo "cpu_bf16.sh: $label, $reps repetitions..." >&2
  "$bench" --threads=$threads --dtypes=f32,bf16 \
    --benchmark_filter='^(lstm|gru)/(infer|fwd_bwd)/(cpu_prepared|cpu_prepared_bf16|onednn_bf16)/' \
    --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true \
    --benchmark_min_time="$min_time" --benchmark_out="$tmp/t$threads.json" \
    --benchmark_out_format=json > "$tmp/t$threads.log"
  { echo; echo "## $label: cpu_prepared_bf16 vs onednn_bf16 (bf16 on both sides)"; echo
    bench/report "$tmp/t$threads.json" --pair cpu_prepared_bf16 onednn_bf16 --header --commit "$commit"
    echo; echo "### $label: cpu_prepared_bf16 vs cpu_prepared (above 1.00: bf16 is faster than f32)"; echo
    bench/report "$tmp/t$threads.json" --pair cpu_prepared_bf16 cpu_prepared
    echo; echo "### $label: oneDNN's bf16 implementation and its check against the cpu backend"; echo
    python3 - "$tmp/t$threads.json" <<'PY'
import json, re, sys
data = json.load(open(sys.argv[1]))
print(f"oneDNN {data.get('context', {}).get('onednn_version', '?')}; impl: primitive_desc::impl_info_str of "
      "the forward (+ the backward), diff: the backward's diff_src/diff_dst dtype; check: the largest "
      "relative error of oneDNN's outputs against the cpu backend's (tolerance 3e-2).")
print()
print("| case | impl | check | error |")
print("|---|---|---:|---|")
seen = {}
for b in data["benchmarks"]:
    parts = b.get("run_name", b["name"]).split("/")
    if len(parts) < 3 or parts[2] != "onednn_bf16" or b.get("run_type", "iteration") != "iteration":
        continue
    case = "/".join(parts[:2] + [p for p in parts[3:] if p != "real_time"])
    if case in seen:
        continue
    label = b.get("label", "")
    impl = label.split(" impl=", 1)[1] if " impl=" in label else "-"
    check = b.get("check_rel_err")
    seen[case] = (impl, "-" if check is None else f"{check:.1e}", b.get("error_message", "") if b.get("error_occurred") else "")
def order(case):  # cell, mode, then the shape's numbers (bench/report's order)
    parts = case.split("/")
    return (parts[0], parts[1], [int(p[2:]) for p in parts[2:] if re.match(r"^[A-Z]:\d+$", p)])
for case, (impl, check, error) in sorted(seen.items(), key=lambda item: order(item[0])):
    print(f"| {case} | {impl} | {check} | {error} |")
PY
  } >> "$tmp/out.md"
done
mv "$tmp/out.md" "$out.tmp" && mv "$out.tmp" "$out"
echo "cpu_bf16.sh: wrote $out" >&2
