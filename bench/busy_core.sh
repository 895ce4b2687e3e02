#!/usr/bin/env bash
# No cliff on a busy machine (issue 33): the quick grid's LSTM and GRU rows (infer and fwd_bwd,
# B 1/32, H 256/512) for the cpu backend on prepared weights and, as the rival, oneDNN's own RNN
# primitive, in four settings:
#   idle-1     idle machine, --threads=1                     (the baseline of every ratio)
#   idle       idle machine, default threads (every core)
#   busy       one core kept busy by a pinned busy loop that this script starts and stops
#              (taskset -c BUSY_CORE, default the last core), default threads
#   busy-1     the same, --threads=1
#   one-core   the process confined to one core (taskset -c 0; no cgroup is made here), default
#              threads: the library must count one usable core and run as on one thread
# Each setting is one gpurnn_bench run with REPS repetitions in random order; the table gives
# each row's median µs per step and, per setting, the median ratio to idle-1 with its min-max
# over the repetitions (the settings cannot share a run: the machine's state is what differs).
# Writes bench/results/busy-core-<date>.md (or OUT). Run it on an otherwise idle machine.
#
#   bench/busy_core.sh [BUILD_DIR] [OUT]      REPS=5, MIN_TIME=0.2, BUSY_CORE=<last core>
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench/results/busy-core-$(date +%F).md}
reps=${REPS:-5}
min_time=${MIN_TIME:-0.2}
cores=$(nproc)
busy_core=${BUSY_CORE:-$((cores - 1))}
bench="$build/bench/gpurnn_bench"
[[ -x "$bench" ]] || { echo "busy_core.sh: $bench not found (cmake --build $build --target gpurnn_bench)" >&2; exit 2; }
(( cores >= 2 )) || { echo "busy_core.sh: needs at least 2 cores (this machine has $cores)" >&2; exit 2; }
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include kernels || echo "+changes")
tmp=$(mktemp -d)
busy_pid=""
stop_busy() { if [[ -n "$busy_pid" ]]; then kill "$busy_pid" 2>/dev/null || true; wait "$busy_pid" 2>/dev/null || true; busy_pid=""; fi; }
trap 'stop_busy; rm -rf "$tmp"' EXIT
filter='^(lstm|gru)/(infer|fwd_bwd)/(cpu_prepared|onednn)/H:(256|512)/B:(1|32)/'

run() {  # run NAME [taskset prefix...] -- bench flags
  local name=$1; shift
  local prefix=()
  while [[ $1 != -- ]]; do prefix+=("$1"); shift; done
  shift
  echo "busy_core.sh: $name, $reps repetitions..." >&2
  "${prefix[@]}" "$bench" "$@" --benchmark_filter="$filter" --benchmark_repetitions="$reps" \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
    --benchmark_out="$tmp/$name.json" --benchmark_out_format=json > "$tmp/$name.log"
}

run idle-1 -- --threads=1
run idle -- --threads=0
taskset -c "$busy_core" bash -c 'while :; do :; done' &
busy_pid=$!
sleep 1
run busy -- --threads=0
run busy-1 -- --threads=1
stop_busy
run one-core taskset -c 0 -- --threads=0

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# The cpu backend and oneDNN on a busy machine, at $commit"
  echo
  echo "Command: \`bench/busy_core.sh\` (REPS=$reps, MIN_TIME=$min_time s, random interleaving within each"
  echo "setting). Machine: $cores cores ($cpu_model); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Busy: \`taskset -c $busy_core bash -c 'while :; do :; done'\` running through the busy and busy-1 settings."
  echo "Each cell: median µs per step, then the median ratio to the same row's idle-1 time with"
  echo "[min-max] over the repetitions (repetition i against idle-1's repetition i; 1.00 = as fast as"
  echo "one thread on an idle machine, above 1.00 slower). Target (issue 33): busy within 1.5x of idle-1,"
  echo "idle no slower than idle-1, one-core equal to idle-1 within noise."
  echo
  python3 - "$tmp" <<'PY'
import json, os, re, statistics, sys
tmp = sys.argv[1]
TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
settings = ["idle-1", "idle", "busy", "busy-1", "one-core"]
runs = {}
for s in settings:
    rows = {}
    for b in json.load(open(os.path.join(tmp, s + ".json")))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = b["run_name"].split("/real_time")[0]
        steps = int(re.search(r"/T:(\d+)", name).group(1))
        rows.setdefault(name, []).append(b["real_time"] * TO_US[b.get("time_unit", "ns")] / steps)
    runs[s] = rows
print("| row | " + " | ".join(settings) + " |")
print("|---|" + "---:|" * len(settings))
for name in sorted(runs["idle-1"]):
    base = runs["idle-1"][name]
    cells = []
    for s in settings:
        times = runs[s].get(name)
        if not times:
            cells.append("—")
            continue
        ratios = sorted(t / b for t, b in zip(times, base))
        cells.append(f"{statistics.median(times):.1f} ({statistics.median(ratios):.2f} [{ratios[0]:.2f}-{ratios[-1]:.2f}])")
    print(f"| {name} | " + " | ".join(cells) + " |")
PY
} > "$tmp/out.md"
mv "$tmp/out.md" "$out.tmp" && mv "$out.tmp" "$out"
echo "busy_core.sh: wrote $out" >&2
