#!/usr/bin/env python3
"""Runs the Python subscriber of docs/topics.md, exactly as the page shows it (the plain
zerobuffer-ipc package, no code of ours on the subscriber's side), and checks every frame it
hands over against the topic test stream (tests/topics/topic_data.h):

    topic_snippet_driver.py TOPIC ID --sizes MIN:MAX:SEED [--metadata-bytes N --metadata-seed S]
                            [--stop-after N] [--payload-size N]

Frame k has schedule(k) bytes, k (8 bytes, little-endian) first and (k + i) mod 256 after.
Prints one JSON line: frames, first, last, bad, problem, metadata_ok, seconds. Exit status 0
when every frame and the metadata were right.
"""

import argparse
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import zbdata  # noqa: E402

DOC = HERE.parent / "docs" / "topics.md"
BEGIN = "<!-- python-subscriber: begin"
END = "<!-- python-subscriber: end -->"


def snippet_from_doc(path=DOC):
    text = path.read_text()
    start = text.index(BEGIN)
    block = text[start:text.index(END, start)]
    code = block[block.index("```python\n") + len("```python\n"):]
    return code[:code.rindex("```")]


class Enough(Exception):
    """Raised from the callback to leave subscribe() early (the Reader closes on the way out)."""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("topic")
    p.add_argument("id")
    p.add_argument("--sizes", required=True)
    p.add_argument("--metadata-bytes", type=int, default=0)
    p.add_argument("--metadata-seed", type=int, default=0)
    p.add_argument("--stop-after", type=int, default=0, help="leave after this many frames (0: at the end)")
    p.add_argument("--payload-size", type=int, default=16 * 1024 * 1024)
    args = p.parse_args()
    lo, hi, seed = (int(x) for x in args.sizes.split(":"))
    expected_metadata = bytes((i * 7 + args.metadata_seed) & 0xFF for i in range(args.metadata_bytes))
    pattern = bytes(i & 0xFF for i in range(256 + hi))

    namespace = {}
    exec(compile(snippet_from_doc(), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    subscribe = namespace["subscribe"]

    r = {"frames": 0, "first": None, "last": None, "bad": 0, "problem": "", "metadata_ok": None}

    def fail(what):
        r["bad"] += 1
        if not r["problem"]:
            r["problem"] = what

    def on_frame(metadata, data):
        if r["metadata_ok"] is None:
            r["metadata_ok"] = metadata == expected_metadata
        k = int.from_bytes(data[:8], "little")
        size = lo + zbdata.splitmix64(seed, k) % (hi - lo + 1)
        if len(data) != size:
            fail(f"frame number {k} has {len(data)} bytes, expected {size}")
        else:
            off = (k + 8) % 256
            if data[8:] != pattern[off:off + size - 8]:
                fail(f"frame number {k} has wrong bytes")
        if r["last"] is not None and k != r["last"] + 1:
            fail(f"frame number {k} follows {r['last']}")
        if r["first"] is None:
            r["first"] = k
        r["last"] = k
        r["frames"] += 1
        if args.stop_after and r["frames"] >= args.stop_after:
            raise Enough()

    t0 = time.monotonic()
    try:
        subscribe(args.topic, args.id, on_frame, payload_size=args.payload_size)
    except Enough:
        pass
    r["seconds"] = round(time.monotonic() - t0, 3)
    r["pid"] = os.getpid()
    print(json.dumps(r), flush=True)
    return 0 if r["bad"] == 0 and r["metadata_ok"] and r["frames"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
