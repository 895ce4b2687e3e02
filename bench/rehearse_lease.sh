#!/usr/bin/env bash
# bench/rehearse_lease.sh — rehearse `bench/gpu_check.sh --lease` here, on Debian 12 without a GPU,
# as the lent machine would run it: in a fresh Debian 12 root (debootstrap --variant=minbase) with
# only cmake, ninja, g++, python3 and git, the CUDA toolkit bind-mounted read-only at
# /usr/local/cuda, and the working tree plus .deps/ (bench/gpu_deps.sh) copied in, so that
# configure and build must succeed from .deps/ alone. A stand-in nvidia-smi reports an H200; the
# GPU tests then report themselves skipped, and the cuda:0 training runs and the benchmarks fail
# for want of a device (the summary says so). Needs root, debootstrap and network to Debian's
# mirror for the first run; the root is kept in $REHEARSAL_DIR (default /work/rehearsal) and
# reused.
#
# Usage: bench/rehearse_lease.sh    (prints the lease script's output; its $OUT is
#                                    $REHEARSAL_DIR/root/work/out)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
base="${REHEARSAL_DIR:-/work/rehearsal}"
root="$base/root"
cuda="$(readlink -f "${CUDA_HOME:-/usr/local/cuda}")"
[ -x "$cuda/bin/nvcc" ] || { echo "rehearse_lease: no CUDA toolkit at $cuda" >&2; exit 2; }
[ -d "$repo/.deps/prefix" ] || { echo "rehearse_lease: run bench/gpu_deps.sh first" >&2; exit 2; }

if [ ! -x "$root/usr/bin/cmake" ]; then
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
  mkdir -p "$base"
  debootstrap --variant=minbase --include=cmake,ninja-build,g++,python3,git,ca-certificates bookworm "$root" \
    http://deb.debian.org/debian
fi

mkdir -p "$root/usr/local/cuda" "$root/work/gpurnn" "$root/work/out"
mountpoint -q "$root/usr/local/cuda" || { mount --bind "$cuda" "$root/usr/local/cuda"; mount -o remount,bind,ro "$root/usr/local/cuda"; }
mountpoint -q "$root/proc" || mount --bind /proc "$root/proc"
mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
cleanup() { umount "$root/usr/local/cuda" "$root/proc" "$root/dev" 2>/dev/null || true; }
trap cleanup EXIT

# What the device call sends: the tracked and untracked-not-ignored files, .git, and .deps.
rm -rf "$root/work/gpurnn" && mkdir -p "$root/work/gpurnn"
(cd "$repo" && { git ls-files -z --cached --others --exclude-standard; printf '.deps\0'; } | tar --null -T - -cf -) |
  tar -C "$root/work/gpurnn" -xf -
cp -r "$repo/.git" "$root/work/gpurnn/.git"
cat >"$root/usr/local/bin/nvidia-smi" <<'EOF'
#!/bin/sh
# Rehearsal stand-in (no GPU here): what nvidia-smi prints on the lent H200.
case "$*" in
  *--query-gpu*) echo "NVIDIA H200, 9.0, 580.159.04, 143771 MiB" ;;
  *) echo "nvidia-smi stand-in for the Debian rehearsal: no GPU on this machine" ;;
esac
EOF
chmod +x "$root/usr/local/bin/nvidia-smi"

chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/cuda/bin:/usr/local/bin:/usr/bin:/bin /bin/bash -c \
  "cd /work/gpurnn && JOBS=$(nproc) LEASE_SLOWDOWN=8 LEASE_BUDGET=3000 OUT=/work/out bench/gpu_lease.sh --no-record"
