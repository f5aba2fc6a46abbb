#!/usr/bin/env bash
# The sending host of the bridge example (run bridge_recv.sh on the receiving host first).
# zerobuffer-bridge creates buffer camera0 as its reader and sends every frame to HOST:PORT; a
# local producer writes 1080p frames and metadata into camera0 as if it were a camera.
#   bash examples/bridge_send.sh HOST [PORT] [FRAMES]      (default port 5555, 600 frames)
set -euo pipefail
host=${1:?usage: bridge_send.sh HOST [PORT] [FRAMES]}
port=${2:-5555}
frames=${3:-600}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bridge=${BIN_DIR:-$repo/build/tools/bridge}/zerobuffer-bridge
interop=${BIN_DIR:-$repo/build/tools}/zerobuffer-interop
buffer=${BUFFER:-camera0}

"$bridge" send --from "buffer:$buffer" --to "tcp://$host:$port" --ring-size 64M &
sender=$!
trap 'kill "$sender" 2>/dev/null || true' EXIT
# The "camera": 30 frames a second of 1920x1080x3 bytes, with its format as metadata.
"$interop" writer "$buffer" -n "$frames" -s 3110400 --pattern sequential -m "1920x1080 RGB24" \
  --delay-ms 33 --wait-for-buffer-ms 10000
sleep 1  # let the last frames leave before the bridge stops
