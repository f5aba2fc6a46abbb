#!/usr/bin/env bash
# Builds the libFuzzer target (tests/fuzz) with Clang, ASan and UBSan, and fuzzes for a fixed
# time starting from the seed corpus in tests/fuzz/corpus. Fails on any finding (a crash, a
# sanitizer report, or the target's own checks); the reproducer is left in $FUZZ_DIR.
#   FUZZ_SECONDS  how long to fuzz (default 60)
#   FUZZ_DIR      build and work directory (default: <repo>/build-fuzz)
#   JOBS          build jobs (default 2)
# When Clang or its fuzzer runtime cannot be installed, it prints why and exits 0 (skipped).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
work=${FUZZ_DIR:-$repo/build-fuzz}
jobs=${JOBS:-2}

skip() {
  echo "fuzz: SKIPPED: $*"
  exit 0
}

# Debian 12: clang 14; the libFuzzer runtime is in libclang-rt-14-dev.
need=()
command -v clang++ >/dev/null 2>&1 || need+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" || need+=(libclang-rt-14-dev)
if ((${#need[@]} > 0)); then
  if ((EUID != 0)); then skip "needs ${need[*]} and is not root to install them"; fi
  echo "fuzz: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y --no-install-recommends "${need[@]}" >/tmp/zerobuffer-fuzz-apt.log 2>&1 ||
         { apt-get update >>/tmp/zerobuffer-fuzz-apt.log 2>&1 &&
           apt-get install -y --no-install-recommends "${need[@]}" >>/tmp/zerobuffer-fuzz-apt.log 2>&1; }; }; then
    skip "cannot install ${need[*]} (see /tmp/zerobuffer-fuzz-apt.log: $(tail -n 1 /tmp/zerobuffer-fuzz-apt.log))"
  fi
fi
runtime=$(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
if [[ ! -f "$runtime" ]]; then
  runtime=$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer-x86_64.a' 2>/dev/null | head -n 1)
  [[ -n "$runtime" ]] || skip "clang's libFuzzer runtime (libclang_rt.fuzzer) is not installed"
fi
bash "$repo/scripts/setup.sh" >/dev/null || { echo "fuzz: setup failed" >&2; exit 1; }

sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
mkdir -p "$work"
if ! cmake -S "$repo" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_CXX_FLAGS="$sanitizers" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
      -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DBUILD_SHARED_LIBS=OFF \
      -DZEROBUFFER_BUILD_FUZZ=ON -DZEROBUFFER_BUILD_TESTS=OFF -DZEROBUFFER_BUILD_BENCHMARKS=OFF \
      -DZEROBUFFER_BUILD_EXAMPLES=OFF -DZEROBUFFER_BUILD_TOOLS=OFF -DZEROBUFFER_INSTALL=OFF \
      -DZEROBUFFER_WERROR=ON >"$work/configure.log" 2>&1; then
  cat "$work/configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 1
fi
cmake --build "$work" -j "$jobs" --target zerobuffer_fuzz || { echo "fuzz: build failed" >&2; exit 1; }

# A working copy of the seed corpus, so that new inputs do not land in the repository.
corpus="$work/corpus"
mkdir -p "$corpus" "$work/findings"
cp -n "$repo"/tests/fuzz/corpus/* "$corpus"/ 2>/dev/null || true

cleanup() { rm -f /dev/shm/zbfuzz_* /dev/shm/sem.sem-[rw]-zbfuzz_* /tmp/zerobuffer/zbfuzz_*.lock; }
trap cleanup EXIT

echo "fuzz: running zerobuffer_fuzz for ${seconds}s"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$work/tests/fuzz/zerobuffer_fuzz" -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/findings/" "$corpus" 2>&1 | tee "$work/fuzz.log" | grep -E "^#[0-9]+ *(DONE|INITED)|FINDING|ERROR|SUMMARY|stat::|Done [0-9]+ runs"
status=${PIPESTATUS[0]}
if ((status != 0)); then
  echo "fuzz: FAILED (exit $status); reproducer(s) in $work/findings, log in $work/fuzz.log" >&2
  ls -l "$work/findings" >&2
  exit 1
fi
echo "fuzz: ok, no finding in ${seconds}s"
