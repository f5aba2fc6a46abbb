#!/usr/bin/env bash
# Runs the `zerobuffer` command suite (pytest) against the built command and peers, in the
# Python environment of the cross-language suite (cross_lang_tests/venv.sh creates it).
#   ZEROBUFFER_BUILD_DIR  build directory (default: $BUILD_DIR, else <repo>/build)
#   ZEROBUFFER_CLI        the zerobuffer command (default: <build>/tools/zerobuffer)
#   ZEROBUFFER_INTEROP    the interop peer (default: <build>/tools/zerobuffer-interop)
# Extra arguments go to pytest, e.g.  tests/cli/run.sh test_cleanup.py -x
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build_dir=${ZEROBUFFER_BUILD_DIR:-${BUILD_DIR:-$repo/build}}
export ZEROBUFFER_CLI=${ZEROBUFFER_CLI:-$build_dir/tools/zerobuffer}
export ZEROBUFFER_INTEROP=${ZEROBUFFER_INTEROP:-$build_dir/tools/zerobuffer-interop}
for program in "$ZEROBUFFER_CLI" "$ZEROBUFFER_INTEROP"; do
  if [[ ! -x "$program" ]]; then
    echo "tests/cli: $program not found; build the project first (scripts/build.sh)" >&2
    exit 2
  fi
done

python=$(bash "$repo/cross_lang_tests/venv.sh")
export PYTHONDONTWRITEBYTECODE=1  # keep the source tree free of __pycache__
cd "$here"
exec "$python" -m pytest "$@"
