#!/usr/bin/env bash
# Builds the duplex test suites with ThreadSanitizer in their own build directory and runs them.
# Exits nonzero if a test fails or ThreadSanitizer reports anything.
#   BUILD_DIR  build directory (default: <repo>/build-tsan)
#   JOBS       parallel build jobs (default: nproc)
#   REPEAT     runs of the dispatcher suite (default 5); the duplex suite runs once
# Extra arguments go to both test programs, e.g. --gtest_filter='DuplexConcurrency.*'.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build-tsan}
repeat=${REPEAT:-5}

BUILD_DIR=$build_dir BUILD_TYPE=RelWithDebInfo TARGETS="zerobuffer_duplex_tests zerobuffer_duplex_dispatcher_tests" \
  bash "$repo/scripts/build.sh" -DCMAKE_CXX_FLAGS=-fsanitize=thread -DZEROBUFFER_BUILD_BENCHMARKS=OFF \
  -DZEROBUFFER_BUILD_EXAMPLES=OFF -DZEROBUFFER_BUILD_TOOLS=OFF -DZEROBUFFER_TEST_SUITES=duplex

export TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$repo/tests/tsan.supp ${TSAN_OPTIONS:-}"
status=0
"$build_dir/tests/duplex/zerobuffer_duplex_dispatcher_tests" --gtest_repeat="$repeat" "$@" || status=1
"$build_dir/tests/duplex/zerobuffer_duplex_tests" "$@" || status=1
if ((status == 0)); then echo "tsan: no test failed and ThreadSanitizer reported nothing"; else echo "tsan: FAILED" >&2; fi
exit "$status"
