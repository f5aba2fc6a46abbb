#!/usr/bin/env python3
"""A subscriber of a topic that the bridge publishes on, written with the plain Python package
zerobuffer-ipc (no code of ours): a Reader on the buffer TOPIC@ID. It checks every frame against
the bridge tests' frame contents (tests/bridge/bridge_frames.cpp, Sizes::small):

    frame k holds k (8 bytes, little-endian), then table[k mod 251 + 8 ...] with
    table[i] = (i * 131 + (i >> 9)) mod 256

    topic_reader.py BUFFER COUNT METADATA_HEX [--timeout S]

Prints "ready" once the buffer exists, then one line
    RESULT frames=N bad=B metadata_ok=0|1 sizes=S0,S1,...
(the sizes are checked by the C++ test, which knows the size schedule). Exit status 0 when COUNT
frames arrived in order (k = 0, 1, ...), every byte was right and the metadata came first.
"""

import argparse
import sys
import time

import zerobuffer

MAX_FRAME = 16384


def main():
    p = argparse.ArgumentParser()
    p.add_argument("buffer")
    p.add_argument("count", type=int)
    p.add_argument("metadata_hex")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    expected_metadata = bytes.fromhex(args.metadata_hex)
    table = bytes((i * 131 + (i >> 9)) & 0xFF for i in range(MAX_FRAME + 256))

    sizes, bad, metadata_ok, problem = [], 0, False, ""
    config = zerobuffer.BufferConfig(metadata_size=4096, payload_size=8 * 1024 * 1024)
    with zerobuffer.Reader(args.buffer, config) as reader:
        print("ready", flush=True)
        deadline = time.monotonic() + args.timeout
        while len(sizes) < args.count and time.monotonic() < deadline:
            try:
                frame = reader.read_frame(timeout=1.0)
            except zerobuffer.WriterDeadException:
                if sizes:
                    problem = "the publisher left after %d frames" % len(sizes)
                    break
                continue  # no publisher attached yet
            if frame is None:
                continue
            with frame:
                data = bytes(frame.data)
                if not sizes:
                    view = reader.get_metadata()
                    metadata_ok = view is not None and bytes(view) == expected_metadata
                    if view is not None:
                        view.release()
            k = len(sizes)
            start = k % 251
            if len(data) < 8 or int.from_bytes(data[:8], "little") != k or data[8:] != table[start + 8:start + len(data)]:
                bad += 1
            sizes.append(len(data))
        if len(sizes) < args.count and not problem:
            problem = "timed out after %d frames" % len(sizes)
    print("RESULT frames=%d bad=%d metadata_ok=%d sizes=%s" % (len(sizes), bad, int(metadata_ok), ",".join(map(str, sizes))),
          flush=True)
    if problem:
        print("topic_reader: " + problem, file=sys.stderr, flush=True)
    return 0 if len(sizes) == args.count and bad == 0 and metadata_ok else 1


if __name__ == "__main__":
    sys.exit(main())
