#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every CTest test, then the Python
# package's suite (scripts/python.sh: builds the zerobuffer-native wheel into a venv, cached, and
# runs python/tests), then the cross-language suite (cross_lang_tests/run.sh, when present: our
# C++ programs, zerobuffer-ipc and zerobuffer-native), then checks that the run left nothing in
# /dev/shm or /tmp/zerobuffer. Exits nonzero if any part failed.
#   BUILD_DIR     build directory (default: <repo>/build)
#   BUILD_TYPE    Release (default) or RelWithDebInfo
#   CTEST_JOBS    parallel tests (default 2)
#   TEST_TIMEOUT  per-test timeout in seconds for tests that set none (default 300)
#   CTEST_ARGS    extra ctest arguments, e.g. "-L unit" or "-LE install"
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir=${BUILD_DIR:-$repo/build}
export BUILD_DIR=$build_dir
ctest_jobs=${CTEST_JOBS:-2}
test_timeout=${TEST_TIMEOUT:-300}
start=$(date +%s)

# What exists before the run, so that the final check blames only objects this run created.
snapshot() { find /dev/shm /tmp/zerobuffer -mindepth 1 -maxdepth 1 2>/dev/null | sort; }
before=$(mktemp)
trap 'rm -f "$before"' EXIT
snapshot >"$before"

bash "$here/setup.sh" || { echo "test: setup failed" >&2; exit 1; }
bash "$here/build.sh" || { echo "test: build failed" >&2; exit 1; }

status_ctest=0
# shellcheck disable=SC2086
(cd "$build_dir" && ctest --output-on-failure -j "$ctest_jobs" --timeout "$test_timeout" ${CTEST_ARGS:-}) \
  || status_ctest=$?

status_python=0
python_start=$(date +%s)
bash "$here/python.sh" || status_python=$?
python_elapsed=$(($(date +%s) - python_start))

status_cross=0
cross_note="absent"
if [[ -f "$repo/cross_lang_tests/run.sh" ]]; then
  cross_note="ran"
  bash "$repo/cross_lang_tests/run.sh" || status_cross=$?
fi

# A new object counts as a leftover unless a live process still uses its buffer (a peer pid in
# the segment's header, or a held lock): on a shared machine another suite may be running.
buffer_of() {
  local base=${1##*/}
  base=${base#sem.sem-[rw]-}
  echo "${base%.lock}"
}
in_use() {
  local name=$1 pid
  if [[ -f /dev/shm/$name ]]; then
    # writer_pid at offset 0x50, reader_pid at 0x58 (u64, little-endian)
    for pid in $(od -An -t u8 -j 80 -N 16 "/dev/shm/$name" 2>/dev/null); do
      ((pid > 0)) && [[ -d /proc/$pid ]] && return 0
    done
  fi
  if [[ -f /tmp/zerobuffer/$name.lock ]] && ! flock -n "/tmp/zerobuffer/$name.lock" true 2>/dev/null; then
    return 0
  fi
  return 1
}
status_leak=0
new_objects=$(comm -13 "$before" <(snapshot))
if [[ -n "$new_objects" ]]; then
  sleep 2  # let objects of a concurrently finishing run go away
  leaked=""
  while IFS= read -r path; do
    [[ -e "$path" ]] || continue
    if in_use "$(buffer_of "$path")"; then
      echo "test: note: $path is in use by a running process (not from this run?)" >&2
    else
      leaked+="$path"$'\n'
    fi
  done <<<"$new_objects"
  if [[ -n "$leaked" ]]; then
    status_leak=1
    echo "test: objects left in /dev/shm or /tmp/zerobuffer by this run:" >&2
    printf '%s' "$leaked" | sed 's/^/  /' >&2
  fi
fi

verdict() { (($1 == 0)) && echo ok || echo "FAILED($1)"; }
elapsed=$(($(date +%s) - start))
echo "SUMMARY: ctest $(verdict $status_ctest), python $(verdict $status_python) (${python_elapsed}s), cross-language $([[ $cross_note == ran ]] && verdict $status_cross || echo absent), leftovers $(verdict $status_leak), ${elapsed}s"

((status_ctest == 0 && status_python == 0 && status_cross == 0 && status_leak == 0))
