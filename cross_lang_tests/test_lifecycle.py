"""Process lifecycle across languages: crashes (SIGKILL), reclaiming what a crashed reader left,
protecting a live reader, writer replacement, and the byte layout both readers create."""

import os

import pytest

from xl import (DIRECTIONS, DIRECTION_IDS, INTRUDER_IDS, INTRUDERS, LANGS, OURS, SHM_DIR, assert_clean, check,
                existing_objects,
                objects_of, read_oieb, wait_until)

SMALL_RING = ["--metadata-size", 64, "--payload-size", "16K"]


def oieb_field(name, field):
    o = read_oieb(name)
    return o[field] if o else 0


# ---------------------------------------------------------------------------------------------
# Crashes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_writer_sigkill_is_reported_by_reader(zb, writer, reader):
    name = zb.name("wk")
    r = zb.spawn(reader, "reader", [name, "-n", 0, "--expect-writer-death", "-s", 512, "--verify", "sequential",
                                    "--timeout-ms", 3000, *SMALL_RING], label=f"{reader}-reader").wait_ready()
    w = zb.spawn(writer, "writer", [name, "-n", 0, "-s", 512, "--delay-ms", 1], label=f"{writer}-writer", ready=False)
    wait_until(lambda: oieb_field(name, "payload_read_count") >= 200 or not w.running(), 20, "200 frames read")
    assert w.running(), w.logs()
    w.kill()
    res = r.result(20)
    # Our reader and the Python reader both end cleanly: every posted frame read and verified,
    # then WriterDead. The sem-w post is the commit point for every reader (contract section 3.4):
    # a kill that lands between the writer's counter update and its post (the Python writer
    # msyncs and yields there) leaves one frame, plus its wrap marker, counted but never posted.
    assert_clean(res, writer_gone=True)
    h = res["health"]
    check(res, res["frames_read"] >= 150 and 0 <= h["written_count"] - h["read_count"] <= 2,
          "every frame posted before the kill should have been read")


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_reader_sigkill_is_reported_by_writer(zb, writer, reader):
    name = zb.name("rk")
    r = zb.spawn(reader, "reader", [name, "-n", 0, "-s", 512, "--verify", "sequential", "--timeout-ms", 20000,
                                    *SMALL_RING], label=f"{reader}-reader").wait_ready()
    # The write timeout is short so that the Python writer, which only checks the reader when a
    # wait for space times out (contract section 6.2), reports quickly too.
    w = zb.spawn(writer, "writer", [name, "-n", 0, "-s", 512, "--delay-ms", 1, "--expect-reader-death",
                                    "--write-timeout-ms", 1000], label=f"{writer}-writer", ready=False)
    wait_until(lambda: oieb_field(name, "payload_read_count") >= 200 or not r.running(), 20, "200 frames read")
    assert r.running(), r.logs()
    r.kill()
    res = w.result(20)
    assert_clean(res, reader_gone=True, exception_type="ReaderDeadException")
    check(res, res["frames_written"] >= 200, "frames before the kill should have been written")


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_writer_graceful_exit_is_reported_by_reader(zb, writer, reader):
    name = zb.name("wx")
    r = zb.spawn(reader, "reader", [name, "-n", 100, "--expect-writer-death", "-s", 700, "--verify", "sequential",
                                    "--timeout-ms", 3000, *SMALL_RING], label=f"{reader}-reader").wait_ready()
    assert_clean(zb.run(writer, "writer", [name, "-n", 100, "-s", 700]), frames_written=100)
    assert_clean(r.result(20), frames_read=100, writer_gone=True)


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_reader_graceful_exit_is_reported_by_writer(zb, writer, reader):
    name = zb.name("rx")
    r = zb.spawn(reader, "reader", [name, "-n", 50, "-s", 700, "--verify", "sequential", *SMALL_RING],
                 label=f"{reader}-reader").wait_ready()
    w = zb.spawn(writer, "writer", [name, "-n", 0, "-s", 700, "--delay-ms", 2, "--expect-reader-death",
                                    "--write-timeout-ms", 1000], label=f"{writer}-writer", ready=False)
    assert_clean(r.result(20), frames_read=50)
    res = w.result(20)
    assert_clean(res, reader_gone=True, exception_type="ReaderDeadException")
    check(res, res["frames_written"] >= 50, "the reader's frames were written first")


# ---------------------------------------------------------------------------------------------
# Reclaiming a crashed reader's buffer
# ---------------------------------------------------------------------------------------------
def _crash_reader(zb, lang, name, extra=()):
    holder = zb.spawn(lang, "create", [name, *SMALL_RING, *extra], label=f"{lang}-crashed-reader").wait_ready()
    holder.kill()
    left = existing_objects(name)
    assert SHM_DIR / name in left, f"the killed reader should leave its segment behind: {left}"
    return holder


@pytest.mark.parametrize("dead,new", INTRUDERS, ids=[f"{a}_dead-{b}_new" for a, b in INTRUDERS])
def test_new_reader_reclaims_buffer_of_killed_reader(zb, dead, new):
    name = zb.name("rc")
    old = _crash_reader(zb, dead, name)
    r = zb.spawn(new, "reader", [name, "-n", 20, "-s", 100, "--verify", "sequential", *SMALL_RING],
                 label=f"{new}-reader").wait_ready()
    check({"_logs": r.logs()}, oieb_field(name, "reader_pid") == r.pid,
          f"the OIEB should name the new reader (pid {r.pid}), not the dead one ({old.pid})")
    assert_clean(zb.run(dead, "writer", [name, "-n", 20, "-s", 100]), frames_written=20)
    assert_clean(r.result(30), frames_read=20)


@pytest.mark.parametrize("ours", OURS)
def test_cpp_reader_reclaims_killed_python_reader_with_live_writer(zb, ours):
    """Our reader replaces a crashed Python reader even while the Python writer is still attached
    (the writer is dead to this buffer: it points at the unlinked segment). Python itself cannot do
    this (test_peer_bugs.py)."""
    name = zb.name("rcw")
    holder = zb.spawn("py", "create", [name, *SMALL_RING], label="py-crashed-reader").wait_ready()
    old_writer = zb.spawn("py", "writer", [name, "-n", 3, "-s", 100, "--linger-ms", 30000], label="py-old-writer")
    old_writer.wait_ready()
    holder.kill()
    r = zb.spawn(ours, "reader", [name, "-n", 10, "-s", 100, "--verify", "sequential", *SMALL_RING],
                 label=f"{ours}-reader").wait_ready()
    assert old_writer.running()
    check({"_logs": r.logs()}, oieb_field(name, "reader_pid") == r.pid and oieb_field(name, "writer_pid") == 0,
          "the new buffer should be fresh: our reader, no writer")
    assert_clean(zb.run("py", "writer", [name, "-n", 10, "-s", 100], label="py-new-writer"), frames_written=10)
    assert_clean(r.result(30), frames_read=10)
    old_writer.terminate()
    assert_clean(old_writer.result(20), frames_written=3)


@pytest.mark.parametrize("ours", OURS)
def test_cpp_reader_reuses_name_after_python_reader_leaked_semaphores(zb, ours):
    """A Python reader that closes gracefully leaves both semaphores (contract section 6.3); our
    reader takes the name over, and when it closes nothing at all is left."""
    name = zb.name("leak")
    assert_clean(zb.run("py", "create", [name, "--hold-ms", 1, *SMALL_RING], label="py-reader"))
    r = zb.spawn(ours, "reader", [name, "-n", 5, "-s", 64, "--verify", "sequential", *SMALL_RING],
                 label=f"{ours}-reader").wait_ready()
    assert_clean(zb.run("py", "writer", [name, "-n", 5, "-s", 64]), frames_written=5)
    assert_clean(r.result(30), frames_read=5)
    assert existing_objects(name) == [], f"left behind: {existing_objects(name)}"


# ---------------------------------------------------------------------------------------------
# A live reader is never destroyed by a reader of the other language
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("live,intruder", INTRUDERS, ids=INTRUDER_IDS)
def test_live_reader_survives_second_reader_of_other_language(zb, live, intruder):
    name = zb.name("live")
    r = zb.spawn(live, "reader", [name, "-n", 10, "-s", 200, "--verify", "sequential", "--timeout-ms", 20000,
                                  *SMALL_RING], label=f"{live}-reader").wait_ready()
    before = {p.name: os.stat(p).st_ino for p in objects_of(name) if p.exists()}
    attempt = zb.run(intruder, "create", [name, "--hold-ms", 1, *SMALL_RING], label=f"{intruder}-intruder")
    check(attempt, attempt["exit_code"] == 2, "the second reader must fail")
    if intruder in OURS:
        check(attempt, attempt["exception_type"] == "ReaderAlreadyConnectedException", "a clear error is expected")
    after = {p.name: os.stat(p).st_ino for p in objects_of(name) if p.exists()}
    assert after == before, f"the live reader's objects changed: {before} -> {after}"
    assert oieb_field(name, "reader_pid") == r.pid
    assert_clean(zb.run(intruder, "writer", [name, "-n", 10, "-s", 200]), frames_written=10)
    assert_clean(r.result(30), frames_read=10)


# ---------------------------------------------------------------------------------------------
# Writers meeting a dead reader, replaced writers, empty metadata
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ours", OURS)
def test_cpp_writer_refuses_buffer_of_killed_python_reader(zb, ours):
    name = zb.name("dr")
    _crash_reader(zb, "py", name)
    res = zb.run(ours, "writer", [name, "-n", 5, "-s", 100])
    check(res, res["exit_code"] == 2 and res["exception_type"] == "ReaderDeadException" and res["frames_written"] == 0,
          "our writer must refuse a buffer whose reader is dead")
    check(res, oieb_field(name, "writer_pid") == 0, "a refused writer must not claim the buffer")


def test_cpp_reader_accepts_replacement_python_writer(zb):
    """Two Python writers one after the other: the second starts again at sequence 1, which our
    reader accepts (the Python reader raises SequenceError: test_peer_bugs.py)."""
    name = zb.name("wr")
    r = zb.spawn("cpp", "reader", [name, "-n", 10, "-s", 300, "--verify", "sequential", "--allow-writer-restart",
                                   *SMALL_RING], label="cpp-reader").wait_ready()
    assert_clean(zb.run("py", "writer", [name, "-n", 5, "-s", 300], label="py-writer-1"), frames_written=5)
    assert_clean(zb.run("py", "writer", [name, "-n", 5, "-s", 300], label="py-writer-2"), frames_written=5)
    assert_clean(r.result(30), frames_read=10, writer_restarts=1, last_sequence=5)


@pytest.mark.parametrize("ours", OURS)
def test_cpp_reader_reads_empty_metadata_from_python_writer(zb, ours):
    name = zb.name("em")
    r = zb.spawn(ours, "reader", [name, "-n", 2, "-s", 10, "--verify", "sequential", "--empty-metadata",
                                   *SMALL_RING], label=f"{ours}-reader").wait_ready()
    assert_clean(zb.run("py", "writer", [name, "-n", 2, "-s", 10, "--empty-metadata"]), frames_written=2)
    assert_clean(r.result(30), frames_read=2, metadata_ok=True, metadata_size=0)


@pytest.mark.parametrize("ours", OURS)
def test_python_writer_exact_fit_with_lagging_reader_then_exit(zb, ours):
    """Python writer, 128-byte frames in a 1 KiB ring, our reader slow: frame 8 ends exactly at
    the ring's end (write_pos = S), frame 9 wraps without a marker and the Python writer counts a
    phantom wrap (contract section 3.7). Our reader must read all 16 frames and still notice
    the writer's graceful exit, although written_count > read_count for ever."""
    name = zb.name("ph")
    r = zb.spawn(ours, "reader", [name, "-n", 16, "-s", 112, "--verify", "sequential", "--delay-ms", 30,
                                   "--expect-writer-death", "--timeout-ms", 3000, "--metadata-size", 64,
                                   "--payload-size", 1024], label=f"{ours}-reader").wait_ready()
    w = zb.run("py", "writer", [name, "-n", 16, "-s", 112], label="py-writer")
    assert_clean(w, frames_written=16)
    check(w, w["health"]["written_count"] == 17, "the Python writer should have counted one phantom wrap")
    res = r.result(30)
    assert_clean(res, frames_read=16, writer_gone=True)


@pytest.mark.parametrize("ours", OURS)
def test_cpp_writer_refuses_frame_that_cannot_be_placed_for_python_reader(zb, ours):
    """600 B then 900 B in a 1 KiB ring: the second frame can never be placed under the v1 rules
    (catalogue B1). Our writer says so at once (FrameTooLargeException) instead of stalling like
    the Python writer (test_peer_bugs.py); the frame before it arrives intact."""
    name = zb.name("tl")
    r = zb.spawn("py", "reader", [name, "-n", 1, "--sizes", "list:584,884", "--verify", "sequential", "--delay-ms", 500,
                                  "--metadata-size", 64, "--payload-size", 1024], label="py-reader").wait_ready()
    w = zb.run(ours, "writer", [name, "-n", 2, "--sizes", "list:584,884", "--write-timeout-ms", 20000],
               label=f"{ours}-writer")
    check(w, w["exit_code"] == 2 and w["exception_type"] == "FrameTooLargeException" and w["frames_written"] == 1,
          "our writer must refuse the frame with FrameTooLargeException")
    check(w, w["duration_seconds"] < 5, "the refusal must be immediate, not a timeout")
    assert_clean(r.result(30), frames_read=1)


# ---------------------------------------------------------------------------------------------
# Byte layout
# ---------------------------------------------------------------------------------------------
def test_oieb_identical_after_creation(zb):
    """A Python reader and our reader create a buffer with the same config: the OIEBs are
    byte-identical except reader_pid (0x58..0x5F), and so are the segment sizes."""
    dumps = {}
    for lang in LANGS:
        name = zb.name(f"lay{lang}")
        holder = zb.spawn(lang, "create", [name, "--metadata-size", 100, "--payload-size", 1000],
                          label=f"{lang}-create").wait_ready()
        dump = zb.run("cpp", "dump-oieb", [name], label=f"dump-{lang}")
        assert_clean(dump)
        raw = bytes.fromhex(dump["oieb_hex"])
        assert raw == read_oieb(name)["raw"], "dump-oieb must show the segment's bytes"
        assert dump["fields"]["reader_pid"] == holder.pid
        dumps[lang] = (raw, dump)
        holder.terminate()
        assert_clean(holder.result(20))
    (py_raw, py_dump), (cpp_raw, cpp_dump) = dumps["py"], dumps["cpp"]
    assert py_dump["segment_size"] == cpp_dump["segment_size"] == 128 + 128 + 1024
    mask = lambda b: b[:0x58] + b"\0" * 8 + b[0x60:]  # noqa: E731
    assert mask(py_raw) == mask(cpp_raw), f"\npy : {py_raw.hex()}\ncpp: {cpp_raw.hex()}"
    if "native" in dumps:
        native_raw, native_dump = dumps["native"]
        assert native_dump["segment_size"] == cpp_dump["segment_size"] and mask(native_raw) == mask(cpp_raw)
    f = cpp_dump["fields"]
    assert (f["oieb_size"], f["version"], f["metadata_size"], f["payload_size"], f["payload_free_bytes"]) == \
        (128, [1, 0, 0, 0], 128, 1024, 1024)


def test_written_bytes_identical_for_every_writer_reader_pair(zb):
    """Metadata "hello" and frames of 3, 200 and 500 bytes written by each writer into a buffer
    created by each reader: the whole segments (OIEB, metadata block, payload ring) are
    byte-identical across every pair (nine with zerobuffer_native) once the PID fields are masked."""
    segments = {}
    for reader in LANGS:
        for writer in LANGS:
            name = zb.name(f"wb{reader}{writer}")
            holder = zb.spawn(reader, "create", [name, "--metadata-size", 100, "--payload-size", 1000],
                              label=f"{reader}-create-{writer}").wait_ready()
            assert_clean(zb.run(writer, "writer", [name, "-n", 3, "--sizes", "list:3,200,500", "-m", "hello"],
                                label=f"{writer}-writer-{reader}"), frames_written=3)
            with open(SHM_DIR / name, "rb") as fh:
                seg = fh.read()
            segments[(reader, writer)] = seg[:0x50] + b"\0" * 16 + seg[0x60:]  # mask writer_pid, reader_pid
            holder.terminate()
            assert_clean(holder.result(20))
    ref = segments[("py", "py")]
    for pair, seg in segments.items():
        assert seg == ref, f"{pair} differs from the all-Python segment at byte " \
                           f"{next(i for i in range(len(ref)) if seg[i] != ref[i])}"
    o = dict(zip(("meta_written", "free", "wpos", "wc"), (int.from_bytes(ref[a:a + 8], "little")
                                                         for a in (0x18, 0x28, 0x30, 0x40))))
    assert o == {"meta_written": 13, "free": 1024 - 751, "wpos": 751, "wc": 3}, o
    assert ref[128:128 + 13] == (5).to_bytes(8, "little") + b"hello"
    assert ref[256:256 + 19] == (3).to_bytes(8, "little") + (1).to_bytes(8, "little") + bytes([0, 1, 2])


def test_cpp_writer_takes_over_write_pos_equal_to_ring_size(zb):
    """A Python writer ends with a frame exactly at the ring's end and leaves write_pos = S
    (contract section 3.7); our writer then takes over the same buffer and goes on correctly."""
    name = zb.name("ws")
    r = zb.spawn("cpp", "reader", [name, "-n", 16, "-s", 112, "--verify", "sequential", "--allow-writer-restart",
                                   "--metadata-size", 64, "--payload-size", 1024], label="cpp-reader").wait_ready()
    assert_clean(zb.run("py", "writer", [name, "-n", 8, "-s", 112], label="py-writer"), frames_written=8)
    assert read_oieb(name)["payload_write_pos"] == 1024, "precondition: the Python writer left write_pos = S"
    assert_clean(zb.run("cpp", "writer", [name, "-n", 8, "-s", 112], label="cpp-writer"), frames_written=8)
    res = r.result(30)
    assert_clean(res, frames_read=16, writer_restarts=1)
    assert res["health"]["payload_free_bytes"] == 1024 and res["health"]["write_pos"] == 0
