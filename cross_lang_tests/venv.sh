#!/usr/bin/env bash
# Creates (or updates) the Python virtual environment of the suites that drive the Python peer
# (cross_lang_tests/ and tests/cli/) and prints its interpreter's path on standard output.
# Messages go to standard error.
#   ZEROBUFFER_XLANG_VENV  the environment (default: <repo>/.venv-xlang)
#   PYTHON                 interpreter used to create it (default: python3)
# The packages are those pinned in cross_lang_tests/requirements.txt; they are (re)installed
# whenever that file changes. A lock serialises suites that start at the same time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
venv=${ZEROBUFFER_XLANG_VENV:-$repo/.venv-xlang}

mkdir -p "$venv"
exec 9>"$venv/.setup-lock"
flock 9
if [[ ! -x "$venv/bin/python" ]]; then
  echo "creating $venv" >&2
  "${PYTHON:-python3}" -m venv "$venv" >&2
fi
stamp="$venv/.zerobuffer-xlang-requirements"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$here/requirements.txt" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
