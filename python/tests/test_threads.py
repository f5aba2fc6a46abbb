"""The GIL is released in blocking calls; Ctrl-C interrupts them; objects shared by threads."""

import os
import signal
import threading
import time

import pytest

import zerobuffer_native as zb
from helpers import pair, wait_until


def test_other_threads_run_while_read_frame_blocks(name):
    reader, writer = pair(name())
    counter = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counter[0] += 1

    t = threading.Thread(target=count)
    t.start()
    t0 = time.monotonic()
    assert reader.read_frame(timeout=0.5) is None
    blocked = time.monotonic() - t0
    done.set()
    t.join()
    # A pure-Python loop that got the GIL for the whole wait counts into the hundreds of thousands.
    assert blocked >= 0.45 and counter[0] > 10000, counter[0]
    writer.close()
    reader.close()


def test_a_blocked_reader_is_woken_by_a_writer_thread(name):
    reader, writer = pair(name())
    got = []
    t = threading.Thread(target=lambda: got.append(reader.read_frame(timeout=None)))
    t.start()
    time.sleep(0.2)
    assert t.is_alive() and not got
    writer.write_frame(b"wake up")
    t.join(5)
    assert bytes(got[0]) == b"wake up"
    got[0].release()
    writer.close()
    reader.close()


def _interrupt_after(delay):
    def fire():
        time.sleep(delay)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()


@pytest.mark.parametrize("call", ["read_frame", "is_writer_connected", "write_frame", "get_frame_buffer"])
def test_ctrl_c_interrupts_a_blocking_call_promptly(name, call):
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=1024))
    writer.write_timeout = 30
    if call == "is_writer_connected":
        writer.close()
        blocking = lambda: reader.is_writer_connected(timeout_ms=30000)  # noqa: E731
    elif call == "read_frame":
        blocking = lambda: reader.read_frame(timeout=None)  # noqa: E731 - the writer stays, silent
    else:
        writer.write_frame(b"x" * 900)  # the ring stays full: nobody reads
        blocking = {"write_frame": lambda: writer.write_frame(b"y" * 900),
                    "get_frame_buffer": lambda: writer.get_frame_buffer(900)}[call]
    _interrupt_after(0.2)
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        blocking()
    elapsed = time.monotonic() - t0
    # Interrupted in the slice after the signal (50 ms), long before the call's own timeout (30 s or
    # none); the ceiling leaves room for a loaded machine.
    assert 0.15 < elapsed < 0.2 + 2.0, elapsed
    writer.close()
    reader.close()


def test_close_from_another_thread_ends_a_blocked_read(name):
    reader, writer = pair(name())
    errors = []

    def read():
        try:
            reader.read_frame(timeout=None)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=read)
    t.start()
    time.sleep(0.1)
    reader.close()
    t.join(2)
    assert not t.is_alive() and isinstance(errors[0], zb.ObjectClosedException)
    writer.close()


def test_one_writer_shared_by_threads(name):
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=256 * 1024))
    per_thread = 2000

    def write(tag):
        for _ in range(per_thread):
            writer.write_frame(tag * 32)

    threads = [threading.Thread(target=write, args=(bytes([t]),)) for t in range(4)]
    for t in threads:
        t.start()
    seen = {t: 0 for t in range(4)}
    for k in range(4 * per_thread):
        with reader.read_frame(5.0) as frame:
            assert frame.sequence == k + 1
            data = bytes(frame)
            assert data == data[:1] * 32
            seen[data[0]] += 1
    for t in threads:
        t.join()
    assert seen == {t: per_thread for t in range(4)}
    writer.close()
    reader.close()


def test_frames_released_on_other_threads(name):
    reader, writer = pair(name())
    frames = []
    for k in range(50):
        writer.write_frame(bytes([k]) * 500)
        frames.append(reader.read_frame(1.0))
    threads = [threading.Thread(target=lambda fs=frames[i::5]: [f.release() for f in fs]) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: reader.health()["payload_free_bytes"] == reader.health()["payload_size"])
    writer.close()
    reader.close()
