#!/usr/bin/env bash
# Interrupts a running demo the way Ctrl-C does (SIGINT to its whole process group), then
# checks that it exits with status 130 and that nothing of its buffer is left behind.
set -uo pipefail
demo=${1:?usage: demo_interrupt_test.sh <demo binary>}
name=zbdemo_interrupt_$$
out=$(mktemp)
trap 'rm -f "$out"' EXIT

setsid "$demo" --seconds 60 --ring-mib 16 --name "$name" >"$out" 2>&1 &
pid=$!
# Wait until frames flow (the reader prints its first live line about once a second when not on a tty).
for _ in $(seq 100); do
  grep -q 'frames/s' "$out" && break
  sleep 0.1
done
kill -INT -- "-$pid"
wait "$pid"
code=$?
cat "$out"

fail=0
if ((code != 130)); then echo "FAIL: exit status $code, expected 130"; fail=1; fi
if ! grep -q 'frames/s' "$out"; then echo "FAIL: no frames were streamed before the interrupt"; fail=1; fi
if grep -q 'left behind' "$out"; then echo "FAIL: the reader did not remove its buffer itself"; fail=1; fi
for path in /dev/shm/"$name" /dev/shm/sem.sem-w-"$name" /dev/shm/sem.sem-r-"$name" /tmp/zerobuffer/"$name".lock; do
  if [[ -e "$path" ]]; then echo "FAIL: left behind: $path"; rm -f "$path"; fail=1; fi
done
exit $fail
