#!/usr/bin/env bash
# Runs the bridge example pair on one machine over loopback (a CTest test): 60 frames of 1080p
# leave through bridge_send.sh and arrive, verified, through bridge_recv.sh; nothing is left.
#   bridge_example_test.sh BRIDGE_DIR INTEROP_DIR
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
buffer="zbbridge_example_$$"  # two names: both "hosts" share this machine's /dev/shm
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
recv_log=$(mktemp) send_log=$(mktemp)
ln_dir=$(mktemp -d)
trap 'rm -rf "$ln_dir" "$recv_log" "$send_log"' EXIT
ln -s "$1/zerobuffer-bridge" "$ln_dir/zerobuffer-bridge"
ln -s "$2/zerobuffer-interop" "$ln_dir/zerobuffer-interop"
export BIN_DIR=$ln_dir
BUFFER="${buffer}_recv" bash "$here/bridge_recv.sh" "$port" 60 >"$recv_log" 2>&1 &
receiving=$!
sleep 0.5
BUFFER="${buffer}_send" bash "$here/bridge_send.sh" 127.0.0.1 "$port" 60 >"$send_log" 2>&1 || true
status=0
wait "$receiving" || status=$?
sleep 0.5
left=$(find /dev/shm /tmp/zerobuffer -name "*$buffer*" 2>/dev/null || true)
if ((status != 0)) || [[ -n "$left" ]]; then
  echo "bridge example failed (receiving side exit $status; left: ${left:-nothing})"
  cat "$recv_log" "$send_log"
  exit 1
fi
grep -E "frames_read|read [0-9]+ frames|READER" "$recv_log" | head -3 || true
echo "bridge example: 60 frames of 3110400 bytes across the bridge, verified; nothing left behind"
