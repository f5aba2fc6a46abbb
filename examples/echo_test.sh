#!/usr/bin/env bash
# Smoke test of the echo example: server and client as two processes, then a clean stop (SIGINT)
# that must leave nothing in /dev/shm or /tmp/zerobuffer.
#   echo_test.sh <echo_server> <echo_client>
set -u
server_bin=$1
client_bin=$2
channel="zbexample_echo_$$"

"$server_bin" "$channel" --seconds 30 &
server=$!
"$client_bin" "$channel" --count 300 --size 4096 --response-mib 1 --timeout-ms 5000
rc=$?
# A second client after the first one left: the server serves clients one after another.
"$client_bin" "$channel" --count 50 --size 100 --response-mib 1 --timeout-ms 5000 || rc=1
kill -INT "$server"
wait "$server" || rc=1
if ls /dev/shm /tmp/zerobuffer 2>/dev/null | grep -q "$channel"; then
  echo "left behind:"; ls /dev/shm /tmp/zerobuffer 2>/dev/null | grep "$channel"
  rc=1
fi
echo "echo example: exit $rc"
exit $rc
