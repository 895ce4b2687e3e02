#!/usr/bin/env bash
# bench/gpu_check.sh — the one command for a machine with an NVIDIA GPU.
#
# Configures a Release build for the card(s) nvidia-smi reports (build-gpu/), builds, runs the
# GPU and device tests (ctest -L "gpu|virtual") and the CPU suite, runs compute-sanitizer (memcheck, racecheck) over
# a short subset of the GPU tests, trains every `gpurnn train` task (the seq2seq and pointer
# tasks too) on its defaults on cuda:0,
# runs the benchmark's quick grid, prints one summary table and
# appends it, with card, driver, date and commit, to bench/results/gpu.md.
#
# Needs CUDA (nvcc, compute-sanitizer), CMake, a C++ compiler and the libraries of the README's
# apt-get line; no network. Without the GoogleTest package it builds GoogleTest from source:
# .deps/googletest in the repository if present, else $GTEST_SRC, else /usr/src/googletest.
# cuDNN comes from $CUDNN_ROOT, else from the nvidia-cudnn Python wheel when importable, else
# from the CUDA toolkit's folders. Without Google Benchmark the benchmarks are left out.
#
# Usage: bench/gpu_check.sh [--lease] [--quick] [--no-sanitizer] [--no-record]
#   --lease         the lent-machine run instead: bench/gpu_lease.sh (one device call of under
#                   8 minutes, libraries from .deps/; see its header and bench/results/README.md)
#   --quick         skip the benchmarks
#   --no-sanitizer  skip compute-sanitizer
#   --no-record     print the summary but do not append it to bench/results/gpu.md
# Environment:
#   BUILD_DIR         build folder (default <repo>/build-gpu)
#   JOBS              parallel build and test jobs (default: nproc)
#   SANITIZER_FILTER  gtest filter for the sanitizer runs (default
#                     '*Cuda*Small*:*CudaDevice*:*Cudnn*Small*:*CudnnDevice*:*CudaPersistentSmall*';
#                     the persistent kernel's small cases are named so racecheck covers its
#                     shared-memory phases)
#   BENCH_ARGS        extra gpurnn_bench flags (default '--benchmark_repetitions=3')
#   GTEST_SRC, CUDNN_ROOT  as above
# Exit status: 0 when every test passed (or was skipped) and the sanitizers found nothing;
# 1 when a test or a training run failed or a sanitizer reported errors; 2 for a setup or build failure.

set -uo pipefail

quick=0
sanitize=1
record=1
for arg in "$@"; do
  case "$arg" in
    --lease) exec "$(dirname "${BASH_SOURCE[0]}")/gpu_lease.sh" "$@" ;;
    --quick) quick=1 ;;
    --no-sanitizer) sanitize=0 ;;
    --no-record) record=0 ;;
    -h | --help)
      sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *)
      echo "gpu_check: unknown option '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build-gpu}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
sanitizer_filter="${SANITIZER_FILTER:-*Cuda*Small*:*CudaDevice*:*Cudnn*Small*:*CudnnDevice*:*CudaPersistentSmall*}"
bench_args="${BENCH_ARGS:---benchmark_repetitions=3}"
logs="$build/gpu_check"

say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() {
  printf 'gpu_check: %s\n' "$*" >&2
  exit 2
}
trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# ---- the card ------------------------------------------------------------------------------
say "GPU"
command -v nvidia-smi >/dev/null 2>&1 ||
  die "nvidia-smi not found: this script is for a machine with an NVIDIA GPU and its driver"
smi_out="$(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader 2>&1)" ||
  die "nvidia-smi failed: $smi_out"
[ -n "$smi_out" ] || die "nvidia-smi lists no GPU"
IFS=, read -r card cc driver <<<"$(head -n 1 <<<"$smi_out")"
card="$(trim "$card")"
cc="$(trim "$cc")"
driver="$(trim "$driver")"
# Every distinct compute capability present (a machine may mix cards): 9.0 -> 90.
archs=""
while IFS=, read -r _ gpu_cc _; do
  gpu_cc="$(trim "$gpu_cc")"
  arch="${gpu_cc//./}"
  [[ "$arch" =~ ^[0-9]+$ ]] || die "cannot read a compute capability from nvidia-smi: '$gpu_cc'"
  case ";$archs;" in *";$arch;"*) ;; *) archs="${archs:+$archs;}$arch" ;; esac
done <<<"$smi_out"
gpu_count="$(grep -c . <<<"$smi_out")"
note "$card (compute $cc), driver $driver; $gpu_count GPU(s); building for sm_${archs//;/, sm_}"

# ---- tools ---------------------------------------------------------------------------------
if ! command -v nvcc >/dev/null 2>&1; then
  for dir in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [ -n "$dir" ] && [ -x "$dir/bin/nvcc" ]; then
      PATH="$dir/bin:$PATH"
      break
    fi
  done
fi
command -v nvcc >/dev/null 2>&1 || die "nvcc not found (put the CUDA toolkit's bin/ on PATH or set CUDA_HOME)"
command -v cmake >/dev/null 2>&1 || die "cmake not found"
nvcc_dir="$(dirname "$(command -v nvcc)")"
note "nvcc: $(command -v nvcc) ($(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"

sanitizer_bin=""
for candidate in "$(command -v compute-sanitizer 2>/dev/null || true)" \
  "$nvcc_dir/compute-sanitizer" "$nvcc_dir/../compute-sanitizer/compute-sanitizer"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    sanitizer_bin="$candidate"
    break
  fi
done

# A package config file under the usual prefixes (and CMAKE_PREFIX_PATH).
have_cmake_package() {
  local file="$1" dir
  local -a prefixes=(/usr /usr/local /opt)
  if [ -n "${CMAKE_PREFIX_PATH:-}" ]; then
    IFS=: read -r -a extra <<<"$CMAKE_PREFIX_PATH"
    prefixes+=("${extra[@]}")
  fi
  for dir in "${prefixes[@]}"; do
    [ -d "$dir" ] || continue
    if find "$dir" -maxdepth 6 -name "$file" -print -quit 2>/dev/null | grep -q .; then return 0; fi
  done
  return 1
}

# ---- configure -----------------------------------------------------------------------------
say "configure ($build)"
mkdir -p "$logs" || die "cannot create $logs"
cmake_args=(-S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGPURNN_CUDA=ON
  "-DCMAKE_CUDA_ARCHITECTURES=$archs")
if command -v ninja >/dev/null 2>&1; then cmake_args+=(-G Ninja); fi

gtest_src=""
if [ -d "$repo/.deps/googletest" ]; then
  gtest_src="$repo/.deps/googletest"
elif [ -n "${GTEST_SRC:-}" ]; then
  gtest_src="$GTEST_SRC"
elif ! have_cmake_package GTestConfig.cmake; then
  gtest_src="/usr/src/googletest"
fi
if [ -n "$gtest_src" ]; then
  [ -f "$gtest_src/CMakeLists.txt" ] ||
    die "no GoogleTest: neither the package nor a source tree at $gtest_src (set GTEST_SRC)"
  cmake_args+=("-DGPURNN_GTEST_SOURCE_DIR=$gtest_src")
  note "GoogleTest: built from $gtest_src"
else
  cmake_args+=("-DGPURNN_GTEST_SOURCE_DIR=")
  note "GoogleTest: installed package"
fi

cudnn_root="${CUDNN_ROOT:-}"
if [ -z "$cudnn_root" ] && command -v python3 >/dev/null 2>&1; then
  cudnn_root="$(python3 -c 'import nvidia.cudnn; print(list(nvidia.cudnn.__path__)[0])' 2>/dev/null || true)"  # a namespace package: __path__, not __file__
  [ -n "$cudnn_root" ] && note "cuDNN: from the Python wheel at $cudnn_root"
fi
[ -n "$cudnn_root" ] && cmake_args+=("-DCUDNN_ROOT=$cudnn_root")

bench_built=0
bench_note=""
if [ "$quick" = 1 ]; then
  cmake_args+=(-DGPURNN_BUILD_BENCH=OFF)
  bench_note="skipped (--quick)"
elif have_cmake_package benchmarkConfig.cmake; then
  cmake_args+=(-DGPURNN_BUILD_BENCH=ON)
  bench_built=1
else
  cmake_args+=(-DGPURNN_BUILD_BENCH=OFF)
  bench_note="not built: Google Benchmark not found (Debian: libbenchmark-dev)"
  note "Google Benchmark not found: configuring with -DGPURNN_BUILD_BENCH=OFF, no benchmarks"
fi

if ! cmake "${cmake_args[@]}" >"$logs/configure.log" 2>&1; then
  tail -n 30 "$logs/configure.log"
  die "configure failed (log: $logs/configure.log; the README's apt-get line lists what the build needs)"
fi
grep -E "^-- gpurnn:" "$logs/configure.log" | sed 's/^-- /   /'

# ---- build ---------------------------------------------------------------------------------
say "build"
build_start=$SECONDS
if ! cmake --build "$build" -j "$jobs" >"$logs/build.log" 2>&1; then
  grep -E -B2 -A12 "error|FAILED" "$logs/build.log" | head -n 60
  die "build failed (log: $logs/build.log)"
fi
note "built in $((SECONDS - build_start)) s (log: $logs/build.log)"
"$build/gpurnn" info 2>&1 | tee "$logs/info.log" | sed 's/^/   /'

# ---- tests ---------------------------------------------------------------------------------
# Sets <prefix>_passed, _failed and _skipped from a ctest log.
count_tests() {
  local prefix="$1" log="$2" total failed skipped
  total="$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)"
  failed="$(sed -n 's/.*tests passed, \([0-9][0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)"
  skipped="$(grep -c -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$log")"
  total="${total:-0}"
  failed="${failed:-0}"
  if [ "$total" = 0 ] && grep -q "No tests were found" "$log"; then failed=0; fi
  printf -v "${prefix}_failed" '%s' "$failed"
  printf -v "${prefix}_skipped" '%s' "$skipped"
  printf -v "${prefix}_passed" '%s' "$((total - failed - skipped))"
}

status=0
gpu_passed=0 gpu_failed=0 gpu_skipped=0
cpu_passed=0 cpu_failed=0 cpu_skipped=0
say "GPU tests (ctest -L 'gpu|virtual': the device suites run on cuda:0)"
ctest --test-dir "$build" -L 'gpu|virtual' -j "$jobs" --timeout 900 --output-on-failure >"$logs/ctest-gpu.log" 2>&1
ctest_gpu_rc=$?
count_tests gpu "$logs/ctest-gpu.log"
note "$gpu_passed passed, $gpu_failed failed, $gpu_skipped skipped (log: $logs/ctest-gpu.log)"
if [ "$ctest_gpu_rc" != 0 ]; then
  status=1
  [ "$gpu_failed" = 0 ] && gpu_failed="?"
  grep -E "\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|Not Run" "$logs/ctest-gpu.log" | head -n 20
fi
if [ "$gpu_skipped" != 0 ]; then
  note "WARNING: $gpu_skipped GPU tests were skipped on a machine with a GPU; the reason:"
  grep -m 1 "no CUDA device" "$build/Testing/Temporary/LastTest.log" 2>/dev/null | sed 's/^/   /'
fi

say "CPU tests (ctest -LE 'gpu|virtual|fuzz')"
ctest --test-dir "$build" -LE 'gpu|virtual|fuzz' -j "$jobs" --timeout 900 --output-on-failure >"$logs/ctest-cpu.log" 2>&1
ctest_cpu_rc=$?
count_tests cpu "$logs/ctest-cpu.log"
note "$cpu_passed passed, $cpu_failed failed, $cpu_skipped skipped (log: $logs/ctest-cpu.log)"
if [ "$ctest_cpu_rc" != 0 ]; then
  status=1
  [ "$cpu_failed" = 0 ] && cpu_failed="?"
  grep -E "\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|Not Run" "$logs/ctest-cpu.log" | head -n 20
fi

# ---- compute-sanitizer ---------------------------------------------------------------------
declare -A sanitizer_result
for tool in memcheck racecheck; do
  if [ "$sanitize" = 0 ]; then
    sanitizer_result[$tool]="skipped (--no-sanitizer)"
    continue
  fi
  if [ -z "$sanitizer_bin" ]; then
    sanitizer_result[$tool]="not run: compute-sanitizer not found"
    continue
  fi
  say "compute-sanitizer --tool $tool ($sanitizer_filter)"
  log="$logs/$tool.log"
  "$sanitizer_bin" --tool "$tool" --error-exitcode 99 \
    "$build/tests/gpurnn_gpu_tests" "--gtest_filter=$sanitizer_filter" >"$log" 2>&1
  rc=$?
  errors="$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) error.*/\1/p' "$log" | tail -n 1)"
  ran="$(sed -n 's/.*\[==========\] \([0-9][0-9]*\) tests\{0,1\} from.*ran.*/\1/p' "$log" | tail -n 1)"
  skipped_here="$(sed -n 's/.*\[  SKIPPED \] \([0-9][0-9]*\) tests\{0,1\},.*/\1/p' "$log" | tail -n 1)"
  if [ -z "$errors" ]; then
    sanitizer_result[$tool]="failed to run (exit $rc, log: $log)"
    status=1
  elif [ "$errors" != 0 ]; then
    sanitizer_result[$tool]="$errors errors in ${ran:-?} tests"
    status=1
  elif [ "$rc" != 0 ]; then
    sanitizer_result[$tool]="0 errors, but the tests failed (exit $rc)"
    status=1
  else
    sanitizer_result[$tool]="0 errors in ${ran:-?} tests${skipped_here:+ ($skipped_here skipped)}"
  fi
  note "${sanitizer_result[$tool]} (log: $log)"
done

# ---- training on the GPU -------------------------------------------------------------------
# Every `gpurnn train` task on its defaults on cuda:0 (the model, losses, optimizer kernels and
# the batch uploader end to end); each must exit 0 and print its result line.
train_results=""
say "gpurnn train on cuda:0 (every task, defaults)"
for task in charlm timeseries adding copy classify translate sort convex-hull tsp; do
  if line="$("$build/gpurnn" train "$task" --device cuda:0 --progress none 2>"$logs/train-$task.err" |
    tee "$logs/train-$task.log" | grep '^result: ')"; then
    train_results+="${line#result: }"$'\n'
    note "${line#result: }"
  else
    train_results+="task=$task FAILED (log: $logs/train-$task.err)"$'\n'
    note "$task FAILED: $(tail -n 1 "$logs/train-$task.err")"
    status=1
  fi
done

# ---- benchmarks ----------------------------------------------------------------------------
bench_table=""
per_backend=""
if [ "$bench_built" = 1 ]; then
  say "benchmarks (gpurnn_bench quick grid $bench_args)"
  # shellcheck disable=SC2086  # BENCH_ARGS is a list of flags
  if "$build/bench/gpurnn_bench" --grid=quick $bench_args --benchmark_out="$logs/bench.json" \
    --benchmark_out_format=json >"$logs/bench.log" 2>&1; then
    bench_note="quick grid, $bench_args"
    bench_table="$(python3 "$repo/bench/report" "$logs/bench.json" --baseline-backend cpu 2>&1)" ||
      bench_table="bench/report failed: $bench_table"
    # µs per step: one row per cell/mode/shape, one column per backend.
    per_backend="$(python3 - "$logs/bench.json" <<'PY' 2>&1
import json, re, statistics, sys
data = json.load(open(sys.argv[1]))
rows = data.get("benchmarks", [])
agg = any(r.get("run_type") == "aggregate" for r in rows)
table, backends = {}, []
for r in rows:
    if agg and (r.get("run_type") != "aggregate" or r.get("aggregate_name") != "median"):
        continue
    if r.get("error_occurred") or "us_per_step" not in r:
        continue
    parts = r.get("run_name", r["name"]).split("/")
    if len(parts) < 4:
        continue
    # The backend is everything between the mode and the shape: "cpu", "cudnn/persist_static".
    first = next((i for i, p in enumerate(parts) if re.match(r"^[A-Z]:\d+$", p)), len(parts))
    shape = "/".join(parts[:2] + [p for p in parts[first:] if re.match(r"^[A-Z]:\d+$", p)])
    backend = "/".join(parts[2:first])
    if backend not in backends:
        backends.append(backend)
    table.setdefault(shape, {}).setdefault(backend, []).append(float(r["us_per_step"]))
if not table:
    sys.exit("no µs/step rows in the benchmark JSON")
print("| µs per step | " + " | ".join(backends) + " |")
print("|---|" + "---:|" * len(backends))
for shape, cols in table.items():
    cells = [format(statistics.median(cols[b]), ".2f") if b in cols else "-" for b in backends]
    print(f"| {shape} | " + " | ".join(cells) + " |")
PY
)" || per_backend="(no per-backend table: $per_backend)"
  else
    bench_note="gpurnn_bench failed (log: $logs/bench.log)"
    status=1
  fi
  note "$bench_note (log: $logs/bench.log)"
fi

# ---- summary -------------------------------------------------------------------------------
commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
date_utc="$(date -u '+%Y-%m-%d %H:%M UTC')"
summary="$(
  printf '### %s, driver %s, %s, commit %s\n\n' "$card" "$driver" "$date_utc" "$commit"
  printf '| check | result |\n|---|---|\n'
  printf '| GPU | %s (compute %s), %s GPU(s), built for sm_%s |\n' "$card" "$cc" "$gpu_count" "${archs//;/, sm_}"
  printf '| GPU and device tests (ctest -L "gpu\\|virtual") | %s passed, %s failed, %s skipped |\n' "$gpu_passed" "$gpu_failed" "$gpu_skipped"
  printf '| CPU tests (ctest -LE "gpu\\|virtual\\|fuzz") | %s passed, %s failed, %s skipped |\n' "$cpu_passed" "$cpu_failed" "$cpu_skipped"
  printf '| compute-sanitizer memcheck | %s |\n' "${sanitizer_result[memcheck]}"
  printf '| compute-sanitizer racecheck | %s |\n' "${sanitizer_result[racecheck]}"
  printf '| benchmarks | %s |\n' "$bench_note"
  printf '\n`gpurnn train` on cuda:0, every task on its defaults:\n\n```\n%s```\n' "$train_results"
  if [ -n "$per_backend" ]; then printf '\n%s\n' "$per_backend"; fi
  if [ -n "$bench_table" ]; then printf '\n<details><summary>every row</summary>\n\n%s\n\n</details>\n' "$bench_table"; fi
)"
say "summary"
printf '%s\n' "$summary"

if [ "$record" = 1 ]; then
  results="$repo/bench/results/gpu.md"
  if [ ! -f "$results" ]; then
    printf '%s\n' "# GPU checks" "" \
      "Appended by \`bench/gpu_check.sh\`, one section per run (newest last): card, driver, date," \
      "commit, test and compute-sanitizer results and the benchmark's µs per step per backend." \
      "Never edit a recorded section; run the script again instead." >"$results"
  fi
  printf '\n%s\n' "$summary" >>"$results"
  note "appended to $results"
fi

if [ "$status" != 0 ]; then
  echo "gpu_check: FAILED (see the table above and the logs in $logs)" >&2
fi
exit "$status"
