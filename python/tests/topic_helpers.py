"""Helpers of the topic tests: frames whose every byte is checked, and publishing until a
subscriber's ring is full."""

import os
import random
import signal
import threading

import numpy as np

import zerobuffer_native as zb

META = b"topic metadata \x00\x01\x02"
RING = zb.BufferConfig(metadata_size=256, payload_size=256 * 1024)


def frame_bytes(k, size):
    """Frame k of `size` bytes: every byte depends on k and on its position."""
    return ((np.arange(size, dtype=np.uint32) * 7 + k) % 251).astype(np.uint8).tobytes()


def sizes(n, seed=1, largest=4000):
    rng = random.Random(seed)
    return [rng.randint(1, largest) for _ in range(n)]


def read_all(subscriber, frame_sizes, first=0):
    """Reads len(frame_sizes) frames, checking every byte against frame_bytes(first + i, ...)."""
    for i, size in enumerate(frame_sizes):
        frame = subscriber.read_frame(timeout=10.0)
        assert frame is not None, f"frame {first + i} missing"
        with frame:
            assert bytes(frame) == frame_bytes(first + i, size), f"frame {first + i} differs"


def fill(publisher, subscriber):
    """Publishes 1000-byte frames until the ring of `subscriber` (4096 bytes) has no room for one."""
    k = 0
    while subscriber.health()["payload_free_bytes"] >= 1016:
        assert publisher.publish(frame_bytes(k, 1000)) == publisher.subscriber_count
        k += 1
    return k


def publish_all(publisher, frame_sizes, subscribers):
    """Publishes frame_bytes(k, size) for each size; each must reach `subscribers` subscribers."""
    for k, size in enumerate(frame_sizes):
        assert publisher.publish(frame_bytes(k, size)) == subscribers, f"frame {k}"


def interrupt_after(delay):
    def fire():
        threading.Event().wait(delay)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()
