"""Small helpers of the zerobuffer_native suite."""

import time

import zerobuffer_native as zb

SMALL = zb.BufferConfig(metadata_size=256, payload_size=64 * 1024)


def pair(name, config=SMALL):
    """A reader (creating the buffer) and a writer attached to it."""
    reader = zb.Reader(name, config)
    return reader, zb.Writer(name)


def wait_until(predicate, timeout=10.0, interval=0.005):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(interval)
