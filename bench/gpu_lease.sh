#!/usr/bin/env bash
# bench/gpu_lease.sh — the whole GPU verification in one device call (`bench/gpu_check.sh --lease`
# runs it). For a lent machine with CUDA, CMake, ninja, a C++ compiler and Python with torch and
# the nvidia-* wheels, but none of Debian's -dev packages and no network: the libraries come from
# .deps/ (filled by bench/gpu_deps.sh on Debian and carried with the call), cuDNN, cuBLAS and NCCL
# from the toolkit or the wheels.
#
# Phases, each under its own time limit (printed as it starts; a phase that runs out is recorded
# as such and the next one starts), ending within LEASE_BUDGET seconds (default 420):
#   1. the machine: nvidia-smi, the toolkit, where cuBLAS / cuDNN / NCCL were found
#   2. configure and build gpurnn, gpurnn_gpu_tests and gpurnn_bench for the card's arch only
#   3. the GPU tests in 4 gtest shards (4 processes, not one per test); every failure listed
#   4. compute-sanitizer memcheck and racecheck on the project's kernels only (--kernel-name
#      kns=gpurnn) over the small cases of every kernel family
#   5. gpurnn train charlm and tsp, a few steps on cuda:0 and on cpu, compared
#   6. gpurnn_bench --grid=lease (every cuda/* and cudnn/* algorithm in f32; in bf16 and f16 the
#      unidirectional LSTM shapes on cuda standard/persistent/auto and cudnn standard/
#      persist_static/persist_static_small_h) and PyTorch's nn.LSTM/GRU in f32, nn.LSTM in f16
#      and bf16 (bench/torch_rnn_bench.py), tabulated by bench/lease_table.py, each of our rows
#      against the fastest rival of its own dtype
# Sizing (measured here on the 2-core Debian machine; the lent one has 16 cores): on 2026-12-03
# the build of the three targets for one arch was 144 steps, 803 s of step time on 2 busy cores
# (the longest step 43 s); the 2026-12-07 rehearsal (bench/rehearse_lease.sh, with the half
# kernels) built 181 steps in 93 s wall, 179 s of step time on 2 quiet cores (the longest,
# persistent_lstm.cu for sm_90, 8.2 s): limit 200 s. 2068 GPU tests (1915 before the half paths),
# of which about 2000 are sweep cases of a few small GEMMs and kernels each against a cpu
# reference: limit 150 s over 4 shards. The sanitizers run only the ~30 small cases: 75 s each. 30 training steps of charlm
# took 0.5 s on the cpu here: 60 s for the four runs. gpurnn_bench --grid=lease: 620 f32 rows
# (62 shapes x 10 cuda/cudnn algorithms) and 312 half rows (26 LSTM shapes x 6 algorithms x
# bf16, f16) at 0.04 s each plus setup: limit 150 s; PyTorch 114 rows (62 f32, 26 f16, 26 bf16):
# 60 s. The limits add up to more than LEASE_BUDGET on purpose: each is cut to what is left of
# the budget, so a slow phase costs the benchmarks, never the tests.
# Results go to $OUT (default build-lease/out) as they are made, so a run that dies leaves what
# it did: summary.md (rewritten after every phase), bench.json, torch.json and logs.tar.gz
# (4 files; the device call returns at most 8). The summary is appended to
# bench/results/gpu.md at the end (--no-record: not).
#
# Usage: bench/gpu_lease.sh [--no-record]
# Environment: OUT, BUILD_DIR (default build-lease), JOBS (default nproc), LEASE_BUDGET,
# LEASE_SLOWDOWN (multiplies every phase's limit; default 1, for the 16-core lent machine; the
# Debian rehearsal on 2 cores uses 8).
# Exit status: 0 all passed; 1 a test, sanitizer, training or benchmark failure; 2 setup/build.

set -uo pipefail
record=1
for arg in "$@"; do
  case "$arg" in
    --no-record) record=0 ;;
    --lease) ;;
    -h | --help) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "gpu_lease: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-lease}"
out="${OUT:-$build/out}"
logs="$build/logs"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 4)}"
budget="${LEASE_BUDGET:-420}"
slowdown="${LEASE_SLOWDOWN:-1}"
mkdir -p "$out" "$logs" || { echo "gpu_lease: cannot create $out and $logs" >&2; exit 2; }
started=$SECONDS
status=0
summary="$out/summary.md"
rows=()  # "| phase | seconds | limit | result |"

# ---- bookkeeping ---------------------------------------------------------------------------
left() { echo $((budget - (SECONDS - started))); }
# phase NAME LIMIT: prints the phase with its limit (never more than what is left of the budget)
# and sets $limit and $phase_start.
phase() {
  phase_name="$1"
  limit=$(($2 * slowdown))
  local rest
  rest="$(left)"
  [ "$limit" -gt "$rest" ] && limit="$rest"
  [ "$limit" -lt 5 ] && limit=5
  phase_start=$SECONDS
  printf '\n== %s (limit %d s; %d s of %d s used)\n' "$phase_name" "$limit" $((SECONDS - started)) "$budget"
}
# done_phase RESULT: records the phase's row and rewrites the summary.
done_phase() {
  rows+=("| $phase_name | $((SECONDS - phase_start)) | $limit | $1 |")
  printf '   -> %s (%d s)\n' "$1" $((SECONDS - phase_start))
  write_summary
}
# run_limited LOG CMD...: the command under the phase's limit, output to LOG; its exit status
# (124: it ran out of time).
run_limited() {
  local log="$1"
  shift
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
}
tail_of() { tail -n "${2:-15}" "$1" 2>/dev/null | sed 's/^/   | /'; }

machine_lines=""
extra_sections=""
write_summary() {
  {
    printf '### %s, %s, commit %s (bench/gpu_check.sh --lease)\n\n' "${card:-unknown GPU}" \
      "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    printf '%s\n\n' "$machine_lines"
    printf '| phase | seconds | limit | result |\n|---|---:|---:|---|\n'
    printf '%s\n' "${rows[@]}"
    printf '%s' "$extra_sections"
  } >"$summary.tmp" && mv "$summary.tmp" "$summary"
  # The logs so far, so that a run that dies still returns them.
  tar -czf "$out/logs.tar.gz.tmp" -C "$build" logs 2>/dev/null && mv "$out/logs.tar.gz.tmp" "$out/logs.tar.gz"
}

# ---- 1. the machine ------------------------------------------------------------------------
phase "machine" 20
smi="$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader 2>&1)"
if [ $? != 0 ] || [ -z "$smi" ]; then
  machine_lines="nvidia-smi failed: $smi"
  done_phase "FAILED: no GPU visible (nvidia-smi: $smi)"
  exit 2
fi
nvidia-smi >"$logs/nvidia-smi.txt" 2>&1
IFS=, read -r card cc driver memory <<<"$(head -n 1 <<<"$smi")"
card="$(echo $card)"; cc="$(echo $cc)"; driver="$(echo $driver)"; memory="$(echo $memory)"
arch="${cc//./}"
for dir in "${CUDA_HOME:-}" /usr/local/cuda; do
  if ! command -v nvcc >/dev/null 2>&1 && [ -n "$dir" ] && [ -x "$dir/bin/nvcc" ]; then PATH="$dir/bin:$PATH"; fi
done
command -v nvcc >/dev/null 2>&1 || { done_phase "FAILED: nvcc not found"; exit 2; }
cuda_root="$(cd "$(dirname "$(command -v nvcc)")/.." && pwd)"
nvcc_version="$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
sanitizer="$(command -v compute-sanitizer 2>/dev/null || true)"
[ -z "$sanitizer" ] && [ -x "$cuda_root/bin/compute-sanitizer" ] && sanitizer="$cuda_root/bin/compute-sanitizer"
[ -z "$sanitizer" ] && [ -x "$cuda_root/compute-sanitizer/compute-sanitizer" ] && sanitizer="$cuda_root/compute-sanitizer/compute-sanitizer"
python="$(command -v python3 || true)"
# The nvidia-* wheels' folders (a namespace package: __path__, not __file__).
wheel_dirs=""
if [ -n "$python" ]; then
  wheel_dirs="$("$python" -c 'import nvidia; print(" ".join(nvidia.__path__))' 2>/dev/null || true)"
fi
# find_in_wheels GLOB: the prefix (the folder above lib/) of the first library matching GLOB.
find_in_wheels() {
  local hit
  [ -n "$wheel_dirs" ] || return 1
  # shellcheck disable=SC2086
  hit="$(find $wheel_dirs -name "$1" -print -quit 2>/dev/null)"
  [ -n "$hit" ] && dirname "$(dirname "$hit")"
}
cmake_extra=()
libpaths=()
if ls "$cuda_root"/lib64/libcublas.so* "$cuda_root"/lib/libcublas.so* >/dev/null 2>&1; then
  cublas_where="toolkit ($cuda_root)"
elif cublas_root="$(find_in_wheels 'libcublas.so.*')"; then
  cublas_where="wheel ($cublas_root)"
  cmake_extra+=("-DCUBLAS_ROOT=$cublas_root")
  libpaths+=("$cublas_root/lib")
else
  cublas_where="NOT FOUND"
fi
if [ -f "$cuda_root/include/cudnn.h" ]; then
  cudnn_where="toolkit ($cuda_root)"
elif cudnn_root="$(find_in_wheels 'libcudnn.so.9')"; then
  cudnn_where="wheel ($cudnn_root)"
  cmake_extra+=("-DCUDNN_ROOT=$cudnn_root")
  libpaths+=("$cudnn_root/lib")  # cuDNN loads its sub-libraries (ops, adv, ...) from here
else
  cudnn_where="NOT FOUND"
fi
if ls "$cuda_root"/lib*/libnccl.so* >/dev/null 2>&1; then
  nccl_where="toolkit"
elif nccl_root="$(find_in_wheels 'libnccl.so.*')"; then
  nccl_where="wheel ($nccl_root; used by --distributed only, and this build has no MPI)"
else
  nccl_where="not found (used by --distributed only)"
fi
deps_note="system packages"
if [ -d "$repo/.deps/prefix/lib/cmake" ]; then
  cmake_extra+=("-DGPURNN_DEPS_DIR=$repo/.deps")
  libpaths+=("$repo/.deps/prefix/lib")
  deps_note=".deps/ (bench/gpu_deps.sh)"
fi
for p in "${libpaths[@]}"; do LD_LIBRARY_PATH="$p${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"
machine_lines="$(printf -- '- GPU: %s, compute %s, %s, driver %s; %s cores\n- CUDA %s at %s; compute-sanitizer: %s\n- cuBLAS: %s; cuDNN: %s; NCCL: %s\n- libraries: %s; python: %s\n' \
  "$card" "$cc" "$memory" "$driver" "$(nproc)" "$nvcc_version" "$cuda_root" "${sanitizer:-not found}" \
  "$cublas_where" "$cudnn_where" "$nccl_where" "$deps_note" "${python:-none}")"
printf '%s\n' "$machine_lines"
if [ "$cublas_where" = "NOT FOUND" ] || [ "$cudnn_where" = "NOT FOUND" ]; then
  done_phase "FAILED: cuBLAS or cuDNN not found (expected in the toolkit or the nvidia-* wheels)"
  exit 2
fi
done_phase "ok"

# ---- 2. build ------------------------------------------------------------------------------
phase "configure and build (sm_$arch)" 200
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
build_rc=0
run_limited "$logs/configure.log" cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DGPURNN_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$arch" -DGPURNN_REQUIRE_CUDNN=ON -DGPURNN_MPI=OFF \
  -DGPURNN_ONEDNN=OFF -DGPURNN_PYTHON=OFF "${cmake_extra[@]}" || build_rc=$?
if [ "$build_rc" = 0 ]; then
  grep -E '^-- gpurnn:' "$logs/configure.log" | sed 's/^-- /   /'
  run_limited "$logs/build.log" cmake --build "$build" -j "$jobs" --target gpurnn_cli gpurnn_gpu_tests gpurnn_bench ||
    build_rc=$?
  log="$logs/build.log"
else
  log="$logs/configure.log"
fi
if [ "$build_rc" != 0 ]; then
  grep -E -A8 'error|Error|FAILED' "$log" | head -n 40 | sed 's/^/   | /'
  [ "$build_rc" = 124 ] && what="ran out of time" || what="failed (exit $build_rc)"
  done_phase "FAILED: the build $what (logs/$(basename "$log"))"
  exit 2
fi
"$build/gpurnn" info >"$logs/info.txt" 2>&1
done_phase "ok: $(grep -c 'Building\|Linking' "$logs/build.log") build steps"

# ---- 3. GPU tests ----------------------------------------------------------------------------
phase "GPU tests (4 shards)" 150
shards=4
total=$("$build/tests/gpurnn_gpu_tests" --gtest_list_tests | grep -c '^  ')
pids=()
for ((i = 0; i < shards; ++i)); do
  GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$i timeout --kill-after=10 "$limit" \
    "$build/tests/gpurnn_gpu_tests" --gtest_brief=1 >"$logs/gpu-tests-$i.log" 2>&1 &
  pids+=($!)
done
timed_out=0
for ((i = 0; i < shards; ++i)); do
  wait "${pids[$i]}"
  rc=$?
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && timed_out=$((timed_out + 1))
done
# sum_of TAG: the counts gtest's summary lines "[  PASSED  ] N tests." ("[  SKIPPED ] N ...") add up to.
sum_of() { cat "$logs"/gpu-tests-*.log | sed -n "s/^\[ *$1 *\] \([0-9][0-9]*\) tests*.*/\1/p" | awk '{s+=$1} END {print s+0}'; }
passed=$(sum_of PASSED)
skipped=$(sum_of SKIPPED)
failures="$(cat "$logs"/gpu-tests-*.log | grep -E '^\[  FAILED  \] [A-Za-z]' | sed 's/ (.*//; s/, where .*//' | sort -u)"
failed=$(grep -c . <<<"$failures")
result="$passed passed, $failed failed, $skipped skipped of $total"
[ "$timed_out" != 0 ] && result+="; $timed_out shard(s) ran out of time"
if [ "$failed" != 0 ] || [ "$timed_out" != 0 ] || [ "$skipped" != 0 ]; then status=1; fi
if [ "$failed" != 0 ]; then
  extra_sections+=$'\nGPU test failures:\n\n```\n'"$failures"$'\n```\n'
  head -n 30 <<<"$failures" | sed 's/^/   FAILED /'
fi
if [ "$skipped" != 0 ]; then
  # --gtest_brief prints no reasons: one small suite again, in full, for the reason.
  why="$("$build/tests/gpurnn_gpu_tests" --gtest_filter='CudaSmall.*' 2>&1 | grep -m 1 -A1 ': Skipped' | tail -n 1)"
  extra_sections+=$'\nGPU tests skipped on a machine with a GPU; the reason: '"${why:-not printed}"$'\n'
  printf '   skipped because: %s\n' "${why:-not printed}"
fi
done_phase "$result"

# ---- 4. compute-sanitizer ---------------------------------------------------------------------
# Small cases of every kernel family: step kernels (CudaSmall), cuDNN (CudnnSmall), the persistent
# kernel (CudaPersistentSmall) in gpurnn_gpu_tests; the training and attention ops (their f32
# cases) in gpurnn_device_tests, which runs on cuda:0 when there is a GPU.
sanitized=("gpurnn_gpu_tests|CudaSmall.*:CudnnSmall.*:CudaPersistentSmall.*"
           "gpurnn_device_tests|Dtypes/TrainOpsDevice.*/f32:Dtypes/AttentionOpsDevice.*/f32")
for tool in memcheck racecheck; do
  phase "compute-sanitizer $tool" 75
  if [ -z "$sanitizer" ]; then
    done_phase "not run: compute-sanitizer not found"
    status=1
    continue
  fi
  rc=0 errors=0 ran=0 missing=0
  for target in "${sanitized[@]}"; do
    binary="${target%%|*}" filter="${target#*|}"
    log="$logs/$tool-$binary.log"
    GPURNN_TEST_DEVICE=cuda:0 run_limited "$log" "$sanitizer" --tool "$tool" --kernel-name kns=gpurnn \
      --error-exitcode 99 "$build/tests/$binary" "--gtest_filter=$filter"
    one_rc=$?
    if grep -q -i "unrecognized\|unknown option\|invalid option" "$log"; then  # an older tool: --filter
      GPURNN_TEST_DEVICE=cuda:0 run_limited "$log" "$sanitizer" --tool "$tool" --filter kns=gpurnn \
        --error-exitcode 99 "$build/tests/$binary" "--gtest_filter=$filter"
      one_rc=$?
    fi
    one_errors="$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) error.*/\1/p' "$log" | tail -n 1)"
    one_ran="$(sed -n 's/^\[==========\] \([0-9][0-9]*\) tests* from.*ran.*/\1/p' "$log" | tail -n 1)"
    ran=$((ran + ${one_ran:-0}))
    if [ "$one_rc" = 124 ] || [ "$one_rc" = 137 ]; then rc=124; fi
    if [ -z "$one_errors" ]; then missing=1; tail_of "$log"; else errors=$((errors + one_errors)); fi
    if [ "$one_errors" != 0 ] && [ -n "$one_errors" ]; then
      extra_sections+=$'\n'"$tool ($binary)"$':\n\n```\n'"$(grep -m 20 -A3 '=========.*\(Invalid\|Race\|Error\)' "$log")"$'\n```\n'
    fi
    if [ "$one_rc" != 0 ] && [ "$rc" = 0 ]; then rc=$one_rc; fi
  done
  if [ "$rc" = 124 ]; then
    result="ran out of time after $ran tests"; status=1
  elif [ "$missing" != 0 ]; then
    result="failed to run (exit $rc)"; status=1
  elif [ "$errors" != 0 ]; then
    result="$errors errors in $ran tests"; status=1
  elif [ "$rc" != 0 ]; then
    result="0 errors, but the tests failed (exit $rc)"; status=1
  else
    result="0 errors in $ran tests"
  fi
  done_phase "$result"
done

# ---- 5. training on the GPU against the CPU --------------------------------------------------
phase "gpurnn train charlm, tsp: cuda:0 vs cpu" 60
train_rows=""
train_ok=1
for spec in "charlm --steps 30 --hidden 128 --batch 16 --seq-len 50 --eval-batches 4 --sample 0" \
  "tsp --steps 30 --points 5 --eval-examples 200"; do
  task="${spec%% *}"
  for device in cuda:0 cpu; do
    log="$logs/train-$task-${device%%:*}.log"
    # shellcheck disable=SC2086
    if run_limited "$log" "$build/gpurnn" train $spec --device "$device" --progress none --threads 0; then
      line="$(grep '^result: ' "$log" | tail -n 1)"
    else
      line="FAILED (exit $?)"; train_ok=0; tail_of "$log" 5
    fi
    train_rows+="$task $device: ${line#result: }"$'\n'
  done
done
printf '%s' "$train_rows" | sed 's/^/   /'
# The first metric of each task on both devices: the same 30 steps from the same seed.
compare="$(printf '%s' "$train_rows" | "$python" -c '
import re, sys
vals = {}
for line in sys.stdin:
    m = re.match(r"(\S+) (\S+): task=\S+ device=\S+ (\w+)=([-0-9.e+]+)", line)
    if m: vals.setdefault(m.group(1), {})[m.group(2)] = (m.group(3), float(m.group(4)))
for task, d in vals.items():
    if "cuda:0" in d and "cpu" in d:
        (k, g), (_, c) = d["cuda:0"], d["cpu"]
        print(f"{task}: {k} cuda {g:.4g} vs cpu {c:.4g} (relative difference {abs(g - c) / max(abs(c), 1e-12):.2e})")
' 2>&1)"
printf '%s\n' "$compare" | sed 's/^/   /'
extra_sections+=$'\n`gpurnn train` on cuda:0 and on cpu (30 steps, same seed):\n\n```\n'"$train_rows$compare"$'\n```\n'
[ "$train_ok" = 1 ] || status=1
done_phase "$([ "$train_ok" = 1 ] && echo "ok: $(tr '\n' ';' <<<"$compare")" || echo FAILED)"

# ---- 6. benchmarks ---------------------------------------------------------------------------
phase "gpurnn_bench --grid=lease (cuda/*, cudnn/*; f32, bf16, f16)" 150
run_limited "$logs/bench.log" "$build/bench/gpurnn_bench" --grid=lease --dtypes=f32,bf16,f16 \
  '--benchmark_filter=^(lstm|gru)/(infer|fwd_bwd)/(cuda|cudnn)/' --benchmark_min_time=0.04 \
  --benchmark_out="$out/bench.json" --benchmark_out_format=json
rc=$?
rows_done=$(grep -c '"run_name"' "$out/bench.json" 2>/dev/null)
[ "$rc" = 0 ] || status=1
done_phase "$([ "$rc" = 0 ] && echo ok || echo "exit $rc") (${rows_done:-0} rows)"

phase "PyTorch nn.LSTM/GRU f32, nn.LSTM f16, bf16 (bench/torch_rnn_bench.py)" 60
if [ -n "$python" ]; then
  PYTHONUNBUFFERED=1 run_limited "$logs/torch.log" "$python" "$repo/bench/torch_rnn_bench.py" --grid lease \
    --out "$out/torch.json" --min-time 0.04 --dtypes f32,f16,bf16
  rc=$?
  [ "$rc" = 0 ] || status=1
  done_phase "$([ "$rc" = 0 ] && echo ok || echo "exit $rc") ($(grep -c ' us/step' "$logs/torch.log") rows)"
else
  done_phase "not run: no python3"
fi

jsons=()
for f in "$out/bench.json" "$out/torch.json"; do [ -s "$f" ] && jsons+=("$f"); done
if [ ${#jsons[@]} -gt 0 ] && [ -n "$python" ]; then
  table="$("$python" "$repo/bench/lease_table.py" "${jsons[@]}" 2>&1)"
  extra_sections+=$'\nµs per step (median iteration / T); "x rival" = the fastest cudnn/* or torch/* row / ours (above 1: faster):\n\n'"$table"$'\n'
fi
if [ -s "$out/bench.json" ] && [ -n "$python" ]; then
  crossover="$("$python" "$repo/bench/auto_crossover.py" "$out/bench.json" --card "$card" \
    --commit "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" 2>&1)"
  extra_sections+=$'\n`cuda/auto`\'s crossover from these rows (for src/engine/persistent_plan.h):\n\n```cpp\n'"$crossover"$'\n```\n'
fi
write_summary
printf '\n'
cat "$summary"

if [ "$record" = 1 ]; then
  results="$repo/bench/results/gpu.md"
  printf '\n' >>"$results"
  cat "$summary" >>"$results"
  echo "appended to $results"
fi
[ "$status" = 0 ] || echo "gpu_lease: FAILED (see the table above; logs in $out/logs.tar.gz)" >&2
exit "$status"
