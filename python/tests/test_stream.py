"""Reader and Writer: every public function, round trips, metadata, errors with the library's
messages, peer death, and nothing left behind."""

import array
import datetime
import os
import signal
import time

import numpy as np
import pytest

import zerobuffer_native as zb
from conftest import objects_of
from helpers import SMALL, pair


def test_round_trip_of_every_bytes_like_type(name):
    reader, writer = pair(name())
    payloads = [b"bytes", bytearray(b"bytearray"), memoryview(b"memoryview"), array.array("i", [1, 2, 3]),
                np.arange(10, dtype=np.float64), np.zeros((4, 4), dtype=np.uint8)]
    for i, p in enumerate(payloads, start=1):
        assert writer.write_frame(p) == i
    for i, p in enumerate(payloads, start=1):
        frame = reader.read_frame(timeout=1.0)
        assert frame.sequence == i and frame.size == len(bytes(memoryview(p).cast("B")))
        assert bytes(frame) == bytes(memoryview(p).cast("B")) == frame.tobytes() == bytes(frame.data)
        assert len(frame) == frame.size and frame.is_valid
        reader.release_frame(frame)
        assert not frame.is_valid and frame.released
    assert reader.frames_read == writer.frames_written == len(payloads)
    assert reader.bytes_read == writer.bytes_written
    writer.close()
    reader.close()


def test_non_contiguous_and_non_buffer_arguments_are_refused(name):
    reader, writer = pair(name())
    with pytest.raises((BufferError, ValueError), match="contiguous"):  # the exporter's own error
        writer.write_frame(np.arange(20, dtype=np.uint8)[::2])
    with pytest.raises(TypeError):
        writer.write_frame(12345)
    with pytest.raises(TypeError):
        writer.write_frame("text is not bytes")
    writer.close()
    reader.close()


def test_read_timeouts_in_seconds(name):
    reader, writer = pair(name())
    t0 = time.monotonic()
    assert reader.read_frame(timeout=0.2) is None
    assert 0.19 <= time.monotonic() - t0 < 2.0
    assert reader.read_frame(timeout=0) is None
    assert reader.read_frame(0.0) is None
    assert reader.try_read_frame() is None
    writer.write_frame(b"now")
    frame = reader.try_read_frame()
    assert bytes(frame) == b"now"
    frame.release()
    with pytest.raises(zb.InvalidArgumentException, match="timeout"):
        reader.read_frame(timeout=-1)
    with pytest.raises(TypeError, match="seconds"):
        reader.read_frame(timeout="1")
    writer.close()
    reader.close()


def test_zero_copy_writer(name):
    reader, writer = pair(name())
    buf = writer.get_frame_buffer(6)
    assert isinstance(buf, memoryview) and not buf.readonly and len(buf) == 6
    assert writer.has_pending_frame
    buf[:] = b"abcdef"
    assert writer.commit_frame() == 1
    assert not writer.has_pending_frame
    with pytest.raises(ValueError):
        buf[0] = 1  # the view died with the commit
    buf = writer.get_frame_buffer(3)
    buf[:] = b"xyz"
    writer.abandon_frame()  # nothing published, no sequence consumed
    assert writer.next_sequence == 2
    with pytest.raises(zb.UsageException, match="commit_frame"):
        writer.commit_frame()
    with reader.read_frame(1.0) as frame:
        assert bytes(frame) == b"abcdef"
    assert reader.read_frame(0.05) is None
    writer.close()
    reader.close()


def test_metadata(name):
    reader, writer = pair(name())
    assert reader.get_metadata() is None
    assert not writer.metadata_written
    writer.set_metadata(b"camera=front")
    assert writer.metadata_written
    md = reader.get_metadata()
    assert md.readonly and bytes(md) == b"camera=front"
    md.release()
    with pytest.raises(zb.MetadataAlreadyWrittenException):
        writer.set_metadata(b"again")
    writer.close()
    reader.close()

    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=4096))
    with pytest.raises(zb.MetadataTooLargeException, match="metadata"):
        writer.set_metadata(b"x" * 100)
    writer.set_metadata(b"")  # empty metadata is legal (zerobuffer-ipc's reader rejects it)
    md = reader.get_metadata()
    assert md is not None and bytes(md) == b""
    writer.close()
    reader.close()


def test_connection_queries_and_context_managers(name):
    n = name()
    with zb.Reader(n, SMALL) as reader:
        assert reader.is_open and reader.name == n
        assert not reader.is_writer_connected()
        assert not reader.is_writer_connected(timeout_ms=50)
        assert not reader.wait_for_writer(0.05)
        with zb.Writer(n) as writer:
            assert writer.is_open and writer.name == n
            assert reader.is_writer_connected() and reader.is_writer_connected(timeout_ms=10)
            assert writer.is_reader_connected()
            h = writer.health()
            assert h["payload_size"] == 64 * 1024 and h["writer_pid"] == os.getpid()
        assert not writer.is_open and not writer.is_reader_connected()
        h = reader.health()
        assert h["reader_pid"] == os.getpid() and h["writer_pid"] == 0 and h["payload_free_bytes"] == 64 * 1024
    assert not reader.is_open
    assert [p for p in objects_of(n) if p.exists()] == []  # no leaked semaphores, no lock file
    assert "closed" in repr(reader) and "closed" in repr(writer)


def test_write_timeout_and_buffer_full(name):
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=1024))
    assert writer.write_timeout == datetime.timedelta(seconds=5)
    writer.write_timeout = datetime.timedelta(milliseconds=200)
    assert writer.write_timeout == datetime.timedelta(milliseconds=200)
    writer.write_timeout = 0.3  # seconds are accepted too
    with pytest.raises(zb.InvalidArgumentException, match="write timeout"):
        writer.write_timeout = 0
    with pytest.raises(ValueError):  # as zerobuffer-ipc raises ValueError
        writer.write_timeout = datetime.timedelta(seconds=-1)
    for _ in range(7):
        writer.write_frame(b"x" * 100)
    assert writer.try_write_frame(b"x" * 300) is None
    assert writer.try_write_frame(b"x" * 300, timeout=0.05) is None
    t0 = time.monotonic()
    with pytest.raises(zb.BufferFullException, match=r"is full.*after waiting 300 ms"):
        writer.write_frame(b"x" * 300)
    assert 0.28 < time.monotonic() - t0 < 3.0
    with pytest.raises(zb.BufferFullException):
        writer.get_frame_buffer(300)
    frames = [reader.read_frame(1.0) for _ in range(7)]
    for f in frames:
        f.release()
    assert writer.write_frame(b"y" * 300) == 8
    writer.close()
    reader.close()


def test_errors_carry_the_library_messages(name):
    with pytest.raises(zb.InvalidNameException, match="invalid buffer name: it is empty"):
        zb.Reader("")
    with pytest.raises(zb.InvalidNameException, match="contains '/'"):
        zb.Reader("a/b")
    with pytest.raises(zb.InvalidNameException, match="characters, the limit is 245"):
        zb.Reader("n" * 300)
    with pytest.raises(ValueError):  # InvalidNameException is a ValueError too
        zb.Writer("")
    with pytest.raises(TypeError):
        zb.Reader(123)
    with pytest.raises(zb.InvalidArgumentException, match="payload_size is 0"):
        zb.Reader(name(), zb.BufferConfig(metadata_size=64, payload_size=0))
    with pytest.raises(zb.InvalidArgumentException, match="negative"):
        zb.BufferConfig(metadata_size=-1)
    with pytest.raises(TypeError):
        zb.BufferConfig(payload_size="big")
    missing = name()
    with pytest.raises(zb.BufferNotFoundException, match=missing):
        zb.Writer(missing)
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=1024))
    with pytest.raises(zb.InvalidFrameSizeException):
        writer.write_frame(b"")
    with pytest.raises(zb.InvalidFrameSizeException):
        writer.get_frame_buffer(0)
    with pytest.raises(zb.FrameTooLargeException, match="1024"):
        writer.write_frame(b"x" * 2000)
    with pytest.raises(zb.ReaderAlreadyConnectedException):
        zb.Reader(reader.name, SMALL)
    with pytest.raises(zb.WriterAlreadyConnectedException):
        zb.Writer(reader.name)
    writer.get_frame_buffer(10)
    with pytest.raises(zb.UsageException):
        writer.write_frame(b"pending")
    writer.abandon_frame()
    writer.close()
    with pytest.raises(zb.ObjectClosedException, match="closed"):
        writer.write_frame(b"x")
    reader.close()
    with pytest.raises(zb.ObjectClosedException, match="closed"):
        reader.read_frame(0.01)
    assert issubclass(zb.ObjectClosedException, zb.ZeroBufferException)


def test_writer_exit_is_reported_after_the_last_frame(name):
    reader, writer = pair(name())
    writer.write_frame(b"last words")
    writer.close()
    with reader.read_frame(1.0) as frame:
        assert bytes(frame) == b"last words"
    with pytest.raises(zb.WriterDeadException, match="writer"):
        reader.read_frame(1.0)
    reader.close()


def test_reader_exit_is_reported_to_the_writer(name):
    reader, writer = pair(name())
    reader.close()
    with pytest.raises(zb.ReaderDeadException):
        writer.write_frame(b"anyone?")
    writer.close()


WRITER = """
import sys, time, zerobuffer_native as zb
w = zb.Writer(sys.argv[1])
w.write_frame(b"alive")
print("ready", flush=True)
time.sleep(60)
"""

READER = """
import sys, time, zerobuffer_native as zb
r = zb.Reader(sys.argv[1], zb.BufferConfig(metadata_size=64, payload_size=1 << 16))
print("ready", flush=True)
time.sleep(60)
"""


def _best_of(attempts, measure):
    return min(measure() for _ in range(attempts))


def test_killed_writer_is_seen_within_250_ms(name, spawn):
    def measure():
        n = name()
        reader = zb.Reader(n, SMALL)
        child = spawn(WRITER, n)
        assert child.stdout.readline().strip() == b"ready"
        with reader.read_frame(5.0) as frame:
            assert bytes(frame) == b"alive"
        child.kill()
        t0 = time.monotonic()
        with pytest.raises(zb.WriterDeadException):
            reader.read_frame(5.0)
        elapsed = time.monotonic() - t0
        reader.close()
        return elapsed

    assert _best_of(3, measure) < 0.25


def test_killed_reader_is_seen_within_250_ms_and_its_buffer_reclaimed(name, spawn):
    def measure():
        n = name()
        child = spawn(READER, n)
        assert child.stdout.readline().strip() == b"ready"
        writer = zb.Writer(n)
        writer.write_frame(b"x")
        child.kill()
        child.wait()
        t0 = time.monotonic()
        with pytest.raises(zb.ReaderDeadException):
            while time.monotonic() - t0 < 5:
                writer.write_frame(b"x" * 100)
        elapsed = time.monotonic() - t0
        writer.close()
        with zb.Reader(n, SMALL):  # the killed reader's leftovers are reclaimed
            pass
        assert [p for p in objects_of(n) if p.exists()] == []
        return elapsed

    assert _best_of(3, measure) < 0.25


def test_sigterm_default_is_untouched(name):
    # The binding installs no signal handler of its own.
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
