#!/usr/bin/env bash
# bench/gpu_deps.sh — run on Debian 12 (this project's development machine), before a GPU lease.
#
# Fills the ignored folder .deps/ with what the lent GPU machine lacks (it has CUDA, CMake, ninja,
# a C++ compiler and Python with the nvidia-* wheels, but none of Debian's -dev packages and no
# network), so that `bench/gpu_check.sh --lease` builds there from .deps/ alone:
#   .deps/googletest/          GoogleTest's source (Debian's /usr/src/googletest), built there
#   .deps/prefix/include/      the CLI11, nlohmann-json, Google Benchmark and OpenBLAS headers
#   .deps/prefix/lib/          libopenblas.so.0 with what it links (libgfortran, libquadmath) and
#                              libbenchmark.so.1, each with RUNPATH $ORIGIN (patchelf) so the
#                              loader finds its neighbours
#   .deps/prefix/lib/cmake/    a CMake package config per library (OpenBLAS, CLI11, nlohmann_json,
#                              benchmark), every path relative to the config file
# Prints the size of .deps/ and of the tree that travels with it (the device call carries at
# most 64 MiB in all). Installs its own tools with apt-get (patchelf and the -dev packages)
# when they are missing.
#
# Usage: bench/gpu_deps.sh [--clean]     (--clean: remove .deps/ first)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$repo/.deps"
prefix="$deps/prefix"
multiarch="$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"
libdir="/usr/lib/$multiarch"

if [ "${1:-}" = "--clean" ]; then rm -rf "$deps"; fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "gpu_deps: this machine is $(uname -m); the lent GPU machine is x86-64, so its libraries must be too" >&2
  exit 2
fi

need=()
command -v patchelf >/dev/null 2>&1 || need+=(patchelf)
for pkg in libgtest-dev libcli11-dev nlohmann-json3-dev libbenchmark-dev libopenblas-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "gpu_deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

# .deps is ignored by git (the device call names it in `carry`).
exclude="$repo/.git/info/exclude"
if [ -d "$repo/.git" ] && ! grep -qx '/.deps/' "$exclude" 2>/dev/null; then
  mkdir -p "$(dirname "$exclude")"
  echo '/.deps/' >>"$exclude"
fi

rm -rf "$deps/googletest" "$prefix"
mkdir -p "$prefix/include" "$prefix/lib/cmake"

# ---- GoogleTest: the source tree, built by the project's CMake (GPURNN_GTEST_SOURCE_DIR) ------
cp -r /usr/src/googletest "$deps/googletest"

# ---- header-only: CLI11, nlohmann-json ------------------------------------------------------------
cp -r /usr/include/CLI "$prefix/include/"
cp -r /usr/include/nlohmann "$prefix/include/"
mkdir -p "$prefix/lib/cmake/CLI11" "$prefix/lib/cmake/nlohmann_json"
cat >"$prefix/lib/cmake/CLI11/CLI11Config.cmake" <<'EOF'
# CLI11 (header-only), copied from Debian's libcli11-dev by bench/gpu_deps.sh.
if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../../include")
endif()
set(CLI11_FOUND TRUE)
EOF
cat >"$prefix/lib/cmake/nlohmann_json/nlohmann_jsonConfig.cmake" <<'EOF'
# nlohmann-json (header-only), copied from Debian's nlohmann-json3-dev by bench/gpu_deps.sh.
if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../../include")
endif()
set(nlohmann_json_FOUND TRUE)
EOF

# ---- shared libraries: OpenBLAS (and its Fortran runtime), Google Benchmark --------------------
# Copies the real file behind `name` (Debian's alternatives are symlinks) as `as`, with RUNPATH
# $ORIGIN so the libraries beside it are found wherever .deps/ lands.
copy_lib() {
  local name="$1" as="$2" real
  real="$(readlink -f "$libdir/$name")"
  [ -f "$real" ] || { echo "gpu_deps: $libdir/$name not found" >&2; exit 2; }
  cp "$real" "$prefix/lib/$as"
  chmod u+w "$prefix/lib/$as"
  patchelf --set-rpath '$ORIGIN' "$prefix/lib/$as"
}
copy_lib libopenblas.so.0 libopenblas.so.0
ln -sf libopenblas.so.0 "$prefix/lib/libopenblas.so"
copy_lib libgfortran.so.5 libgfortran.so.5
copy_lib libquadmath.so.0 libquadmath.so.0
copy_lib libbenchmark.so.1debian libbenchmark.so.1debian
ln -sf libbenchmark.so.1debian "$prefix/lib/libbenchmark.so"
mkdir -p "$prefix/include/openblas"
cp -L "/usr/include/$multiarch/openblas-pthread/"*.h "$prefix/include/openblas/"
cp -r /usr/include/benchmark "$prefix/include/"
openblas_version="$(sed -n 's/.*OpenBLAS_VERSION "\(.*\)".*/\1/p' "$libdir/cmake/openblas/OpenBLASConfig.cmake" | head -n 1)"
mkdir -p "$prefix/lib/cmake/OpenBLAS" "$prefix/lib/cmake/benchmark"
cat >"$prefix/lib/cmake/OpenBLAS/OpenBLASConfig.cmake" <<EOF
# OpenBLAS ${openblas_version} (pthread build), copied from Debian's libopenblas-dev by bench/gpu_deps.sh.
set(OpenBLAS_VERSION "${openblas_version}")
set(OpenBLAS_INCLUDE_DIRS "\${CMAKE_CURRENT_LIST_DIR}/../../../include/openblas")
set(OpenBLAS_LIBRARIES "\${CMAKE_CURRENT_LIST_DIR}/../../libopenblas.so")
set(OpenBLAS_FOUND TRUE)
EOF
cat >"$prefix/lib/cmake/benchmark/benchmarkConfig.cmake" <<'EOF'
# Google Benchmark (shared), copied from Debian's libbenchmark-dev by bench/gpu_deps.sh.
find_package(Threads REQUIRED)
if(NOT TARGET benchmark::benchmark)
  add_library(benchmark::benchmark SHARED IMPORTED)
  set_target_properties(benchmark::benchmark PROPERTIES
    IMPORTED_LOCATION "${CMAKE_CURRENT_LIST_DIR}/../../libbenchmark.so.1debian"
    INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../../include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
set(benchmark_FOUND TRUE)
EOF

# ---- sizes ------------------------------------------------------------------------------------------
deps_bytes="$(du -sb "$deps" | cut -f1)"
tree_bytes=0
if [ -d "$repo/.git" ]; then
  tree_bytes="$(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)"
fi
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "gpu_deps: .deps/ holds $(mib "$deps_bytes") (libopenblas $(mib "$(stat -c %s "$prefix/lib/libopenblas.so.0")")); the tree that travels with it $(mib "$tree_bytes"); together $(mib $((deps_bytes + tree_bytes))) of the device call's 64 MiB"
if [ $((deps_bytes + tree_bytes)) -gt $((56 * 1048576)) ]; then
  echo "gpu_deps: WARNING: over 56 MiB; the device call may refuse it" >&2
fi
