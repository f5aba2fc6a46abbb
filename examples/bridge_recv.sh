#!/usr/bin/env bash
# The receiving host of the bridge example (run bridge_send.sh on the sending host).
# A local consumer creates buffer camera0 and reads 1080p frames from it; zerobuffer-bridge
# listens on PORT and writes every frame that arrives into camera0, as its writer.
#   bash examples/bridge_recv.sh [PORT] [FRAMES]      (default 5555, 600)
# BIN_DIR: where zerobuffer-bridge and zerobuffer-interop are (default: build/tools and
# build/tools/bridge). The consumer exits after FRAMES frames; the bridge is stopped then.
set -euo pipefail
port=${1:-5555}
frames=${2:-600}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bridge=${BIN_DIR:-$repo/build/tools/bridge}/zerobuffer-bridge
interop=${BIN_DIR:-$repo/build/tools}/zerobuffer-interop
buffer=${BUFFER:-camera0}

# The consumer: creates the buffer (64 MiB ring), checks the metadata and every byte.
"$interop" reader "$buffer" -n "$frames" -s 3110400 --verify sequential -m "1920x1080 RGB24" \
  --payload-size 64M --first-timeout-ms 30000 --timeout-ms 10000 &
consumer=$!
# The bridge: plain TCP here; add --curve-key receiver.key --curve-allow sender.pub across
# networks you do not trust (docs/bridge.md, "Security").
"$bridge" recv --listen "tcp://*:$port" --to "buffer:$buffer" &
receiver=$!
trap 'kill "$receiver" 2>/dev/null || true' EXIT
wait "$consumer"
