#!/usr/bin/env bash
# Smoke test of the topic examples: two subscribers (one started before the publisher, one
# during its run), one publisher, every frame checked; nothing may be left in /dev/shm or
# /tmp/zerobuffer afterwards (whatever is, is removed on exit, even on failure).
#   topic_test.sh <topic_publisher> <topic_subscriber>
set -u
publisher_bin=$1
subscriber_bin=$2
topic="zbexample_topic_$$"
rc=0
cleanup() {
  kill -9 $(jobs -p) 2>/dev/null
  wait 2>/dev/null
  rm -f /dev/shm/"$topic"@* /dev/shm/sem.sem-[rw]-"$topic"@* /tmp/zerobuffer/"$topic"@*.lock
}
trap cleanup EXIT

"$subscriber_bin" "$topic" --id early --frames 2000 --ring-mib 1 --timeout-ms 10000 &
early=$!
"$publisher_bin" "$topic" --frames 2000 --size 1000 --rate 2000 --wait-subscribers 1 --zero-copy &
publisher=$!
sleep 0.3
"$subscriber_bin" "$topic" --id late --ring-mib 1 --timeout-ms 1000 &
late=$!
wait "$publisher" || rc=1
wait "$early" || rc=1
wait "$late" || rc=1
if ls /dev/shm /tmp/zerobuffer 2>/dev/null | grep -q "$topic"; then
  echo "left behind:"; ls /dev/shm /tmp/zerobuffer 2>/dev/null | grep "$topic"
  rc=1
fi
echo "topic example: exit $rc"
exit $rc
