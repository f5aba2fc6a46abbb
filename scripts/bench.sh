#!/usr/bin/env bash
# Builds Release and runs the benchmarks (about two minutes in all):
#   1. bench_side_by_side: zerobuffer next to Boost.Interprocess message_queue and the machine's
#      floors, between two pinned processes, 5 interleaved repetitions; prints the table, the
#      paired ratios and the targets, writes bench-side-by-side.json and .png into the build
#      directory (docs/benchmarks.md);
#   2. bench_topics: publish cost against subscriber count (1, 2, 4, 8) for 64 B and 3,110,400 B
#      frames beside a plain Writer, and the discovery latency of a new subscriber (docs/topics.md);
#   3. the Google Benchmark programs bench_throughput (single-process ping),
#      bench_duplex_roundtrip and bench_scenarios, with short measuring times;
#   4. bridge_bench, when the ZeroMQ bridge is built: the bridge beside plain ZeroMQ PUSH/PULL
#      over loopback and a veth pair (throughput ratios, latency p50/p99, sending CPU per frame;
#      docs/bridge.md).
#   BUILD_DIR        build directory (default: <repo>/build)
#   BENCH_MIN_TIME   Google Benchmark min time per case in seconds (default 0.2)
#   JOBS             parallel build jobs (default: nproc)
# Arguments starting with --benchmark_ go to the Google Benchmark programs, all others to
# bench_side_by_side, e.g.:  bash scripts/bench.sh --reps 9 --seconds 0.5 --update-docs
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export BUILD_DIR=$build_dir
export BUILD_TYPE=Release

side_by_side=bench_side_by_side
topics=bench_topics
google_benchmarks=(bench_throughput bench_duplex_roundtrip bench_scenarios)

bash "$here/setup.sh" gnuplot-nox
TARGETS="$side_by_side $topics ${google_benchmarks[*]}" bash "$here/build.sh" -DZEROBUFFER_BUILD_BENCHMARKS=ON

side_args=()
google_args=()
for arg in "$@"; do
  case $arg in
    --benchmark_*) google_args+=("$arg") ;;
    *) side_args+=("$arg") ;;
  esac
done

status=0
echo "== $side_by_side"
"$build_dir/benchmarks/$side_by_side" "${side_args[@]}" || status=$?
echo "== $topics"
"$build_dir/benchmarks/$topics" || status=$?
for name in "${google_benchmarks[@]}"; do
  echo "== $name"
  "$build_dir/benchmarks/$name" --benchmark_min_time="${BENCH_MIN_TIME:-0.2}" "${google_args[@]}" || status=$?
done
if cmake --build "$build_dir" --target bridge_bench -j "${JOBS:-$(nproc)}" >/dev/null 2>&1; then
  echo "== bridge_bench"
  "$build_dir/benchmarks/bridge_bench" || status=$?
else
  echo "== bridge_bench: not built (the ZeroMQ bridge needs libzmq3-dev)"
fi
exit $status
