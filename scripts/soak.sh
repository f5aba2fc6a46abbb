#!/usr/bin/env bash
# Soak (not part of CI): N frames of random sizes between two processes, every byte checked;
# prints GB/s and the RSS and descriptor counts of both processes at the start and the end.
#   bash scripts/soak.sh [--frames N] [--max-size BYTES] [--ring-mib MIB] [--seed S]
# Defaults: 2,000,000 frames of 1..65536 bytes through a 64 MiB ring. BUILD_DIR, JOBS as build.sh.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export BUILD_DIR=$build_dir
bash "$repo/scripts/setup.sh" >/dev/null
TARGETS=zerobuffer_soak bash "$repo/scripts/build.sh" >/dev/null
exec "$build_dir/tests/soak/zerobuffer_soak" "$@"
