#!/usr/bin/env bash
# Builds the Python package zerobuffer-native (python/) into a wheel, installs it into a venv and
# runs its test suite (python/tests). Cheap on re-runs: the venv is kept, its requirements are
# reinstalled only when python/requirements-dev.txt changes, and the wheel is rebuilt only when a
# source of the package or of the C++ library changed (incrementally, in BUILD_DIR/python).
#   BUILD_DIR              build directory (default: <repo>/build); the wheel goes to BUILD_DIR/python-dist
#   ZEROBUFFER_PY_VENV     the venv (default: <repo>/.venv-python)
#   PYTHON                 interpreter that creates the venv (default: python3)
#   JOBS                   parallel compile jobs (default 2)
# Arguments: --build-only (no tests); anything else goes to pytest.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
venv=${ZEROBUFFER_PY_VENV:-$repo/.venv-python}
dist=$build_dir/python-dist
build_only=0
if [[ ${1:-} == --build-only ]]; then build_only=1; shift; fi
start=$(date +%s)

if [[ ! -x "$venv/bin/python" ]]; then
  echo "python: creating $venv"
  "${PYTHON:-python3}" -m venv "$venv"
fi
req_stamp="$venv/.zerobuffer-python-requirements"
want=$(sha256sum "$repo/python/requirements-dev.txt" | cut -d' ' -f1)
if [[ ! -f "$req_stamp" || "$(cat "$req_stamp")" != "$want" ]]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$repo/python/requirements-dev.txt"
  echo "$want" >"$req_stamp"
fi

# Everything the wheel is built from: the package and the C++ library it links.
inputs_hash() {
  (cd "$repo" && find python/CMakeLists.txt python/pyproject.toml python/README.md python/src python/zerobuffer_native \
      CMakeLists.txt cmake include src platform -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum) |
    sha256sum | cut -d' ' -f1
}
src_hash=$(inputs_hash)
wheel_stamp="$dist/.inputs"
if [[ ! -f "$wheel_stamp" || "$(cat "$wheel_stamp")" != "$src_hash" ]] || ! ls "$dist"/zerobuffer_native-*.whl >/dev/null 2>&1; then
  echo "python: building the zerobuffer-native wheel"
  rm -rf "$dist"
  mkdir -p "$dist"
  CMAKE_BUILD_PARALLEL_LEVEL=${JOBS:-2} "$venv/bin/python" -m pip wheel --disable-pip-version-check --quiet \
    --no-build-isolation --no-deps -w "$dist" "$repo/python" \
    -Cbuild-dir="$build_dir/python" -Ccmake.define.ZEROBUFFER_WERROR=ON
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --force-reinstall --no-deps "$dist"/zerobuffer_native-*.whl
  echo "$src_hash" >"$wheel_stamp"
else
  echo "python: wheel up to date ($(basename "$dist"/zerobuffer_native-*.whl))"
fi
((build_only)) && exit 0

cd "$repo/python/tests"
status=0
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@" || status=$?
echo "python: $(($(date +%s) - start))s"
exit $status
