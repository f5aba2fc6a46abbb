#!/usr/bin/env bash
# Runs the cross-language suite: our C++ zerobuffer-interop, the Python package zerobuffer-ipc
# (pinned in requirements.txt) and this repository's Python package zerobuffer-native (its wheel,
# built by scripts/python.sh --build-only, cached), each peer in its own process.
#
#   ZEROBUFFER_BUILD_DIR  build directory holding tools/zerobuffer-interop
#                         (default: $BUILD_DIR, else <repo>/build)
#   ZEROBUFFER_INTEROP    the program itself (overrides the build directory)
#   ZEROBUFFER_XLANG_VENV virtual environment to create/use (default: <repo>/.venv-xlang)
#   PYTHON                interpreter used to create the venv (default: python3)
# Extra arguments go to pytest, e.g.  cross_lang_tests/run.sh -k duplex -x
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${ZEROBUFFER_BUILD_DIR:-${BUILD_DIR:-$repo/build}}
interop=${ZEROBUFFER_INTEROP:-$build_dir/tools/zerobuffer-interop}

if [[ ! -x "$interop" ]]; then
  echo "cross_lang_tests: $interop not found; build the project first (scripts/build.sh)" \
       "or set ZEROBUFFER_BUILD_DIR / ZEROBUFFER_INTEROP" >&2
  exit 2
fi

python=$(bash "$here/venv.sh")  # the shared venv set-up (also used by tests/cli)
venv=$(dirname "$(dirname "$python")")

# zerobuffer-native: the wheel scripts/python.sh builds (a no-op when it is up to date), installed
# into this venv whenever it changed. ZEROBUFFER_XLANG_NO_NATIVE=1 skips it (its cases are then
# not collected).
if [[ -z "${ZEROBUFFER_XLANG_NO_NATIVE:-}" ]]; then
  BUILD_DIR="$build_dir" bash "$repo/scripts/python.sh" --build-only
  wheel=$(ls "$build_dir"/python-dist/zerobuffer_native-*.whl)
  native_stamp="$venv/.zerobuffer-native-wheel"
  have=$(sha256sum "$wheel" | cut -d' ' -f1)
  if [[ ! -f "$native_stamp" || "$(cat "$native_stamp")" != "$have" ]]; then
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps "$wheel"
    echo "$have" >"$native_stamp"
  fi
fi

export ZEROBUFFER_INTEROP="$interop"
export PYTHONDONTWRITEBYTECODE=1  # keep the source tree free of __pycache__
cd "$here"
exec "$python" -m pytest "$@"
