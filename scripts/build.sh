#!/usr/bin/env bash
# Configures and builds zerobuffer with Ninja.
#   BUILD_DIR   build directory (default: <repo>/build)
#   BUILD_TYPE  Release (default) or RelWithDebInfo, Debug
#   JOBS        parallel jobs (default: nproc)
#   TARGETS     space-separated targets to build (default: all)
# Extra arguments are passed to the configure step, e.g. -DZEROBUFFER_WERROR=ON.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
build_type=${BUILD_TYPE:-Release}
jobs=${JOBS:-$(nproc)}

cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@"
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
