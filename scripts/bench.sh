#!/usr/bin/env bash
# Builds Release and runs the benchmarks with short measuring times (about a minute in all).
#   BUILD_DIR          build directory (default: <repo>/build)
#   BENCH_MIN_TIME     Google Benchmark min time per case in seconds (default 0.2)
#   ZB_BENCH_SECONDS   length of each two-process stream in seconds (default 1)
# Extra arguments go to every benchmark binary, e.g. --benchmark_filter=Stream
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export BUILD_DIR=$build_dir
export BUILD_TYPE=Release

bash "$here/setup.sh"
bash "$here/build.sh" -DZEROBUFFER_BUILD_BENCHMARKS=ON

shopt -s nullglob
binaries=("$build_dir"/benchmarks/bench_*)
if ((${#binaries[@]} == 0)); then
  echo "bench: no benchmark binaries in $build_dir/benchmarks" >&2
  exit 1
fi
status=0
for bin in "${binaries[@]}"; do
  [[ -x "$bin" && -f "$bin" ]] || continue
  echo "== $(basename "$bin")"
  "$bin" --benchmark_min_time="${BENCH_MIN_TIME:-0.2}" "$@" || status=$?
done
exit $status
