#!/usr/bin/env bash
# Installs what is missing, builds, and runs the streaming demo (writer process -> reader process).
# Arguments are passed to the demo, e.g.: ./scripts/demo.sh --seconds 10 --ring-mib 128
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export BUILD_DIR=$build_dir

bash "$here/setup.sh"
TARGETS=demo bash "$here/build.sh"
exec "$build_dir/examples/demo" "$@"
