"""Known bugs of the Python peer (zerobuffer-ipc 1.3.0) that a test can trigger deterministically.

Each test first asserts that OUR side stays correct (clear error, no crash, nothing corrupted,
nothing left behind): those are plain assertions and fail the test normally. It then checks the
peer's behaviour and raises PeerBug when the bug shows. The tests are marked
xfail(strict=True, raises=PeerBug): the expected outcome is PeerBug; any other failure is a real
failure, and a peer that no longer has the bug makes the test fail (XPASS strict) so that this
list gets updated. Contract references: zerobuffer-v1.md sections 3.7, 6.3, 6.5, 11, 12.2.
"""

import pytest

from xl import PeerBug, SHM_DIR, assert_clean, check, existing_objects, peer_bug

RING_1K = ["--metadata-size", 64, "--payload-size", 1024]
RING_16K = ["--metadata-size", 64, "--payload-size", "16K"]


def peer_xfail(reason):
    return pytest.mark.xfail(strict=True, raises=PeerBug, reason=reason)


def no_protocol_errors(result):
    """Our reader saw no sequence or corruption problem."""
    bad = [e for e in result["errors"] if "SequenceError" in e or "CorruptBuffer" in e]
    check(result, not bad, f"our side reported protocol errors: {bad}")


@peer_xfail("python-writer-exact-fit-valueerror: after a frame ends exactly at the ring's end the Python "
            "writer stores write_pos = S; if the reader has caught up, its next write raises ValueError "
            "(contract 3.7, A.2)")
def test_python_writer_fails_after_exact_fit(zb):
    name = zb.name("xf")
    r = zb.spawn("cpp", "reader", [name, "-n", 9, "-s", 112, "--verify", "sequential", "--timeout-ms", 3000,
                                   *RING_1K], label="cpp-reader").wait_ready()
    # 8 frames of 16 + 112 = 128 bytes fill the 1 KiB ring exactly; the delay lets our reader catch
    # up (read_pos back at 0) before the 9th write.
    w = zb.run("py", "writer", [name, "-n", 9, "-s", 112, "--delay-ms", 150], label="py-writer")
    res = r.result(30)
    # Our side: the 8 frames before the failure arrive intact, then the writer's exit is reported.
    check(res, res["frames_read"] == w["frames_written"] and res["verification_errors"] == 0,
          "our reader must have every frame the Python writer managed to write, intact")
    check(res, res["writer_gone"] and res["exit_code"] == 1, "our reader must report the writer's exit")
    no_protocol_errors(res)
    if w["frames_written"] < 9:
        peer_bug(f"Python writer stopped after {w['frames_written']} frames: {w['errors']}")


@peer_xfail("python-writer-wrap-stall: a frame with T > max(tail, write_pos) can never be placed under the v1 "
            "space rule; the Python writer waits and raises BufferFull although the ring is empty "
            "(catalogue B1; our writer refuses such a frame at once, see test_lifecycle.py)")
def test_python_writer_stalls_on_unplaceable_frame(zb):
    name = zb.name("st")
    r = zb.spawn("cpp", "reader", [name, "-n", 2, "--sizes", "list:584,884", "--verify", "sequential",
                                   "--timeout-ms", 3000, *RING_1K], label="cpp-reader").wait_ready()
    w = zb.run("py", "writer", [name, "-n", 2, "--sizes", "list:584,884", "--write-timeout-ms", 500],
               label="py-writer")
    res = r.result(30)
    check(res, res["frames_read"] == 1 and res["verification_errors"] == 0, "the first frame must arrive intact")
    check(res, res["writer_gone"], "our reader must report the writer's exit")
    no_protocol_errors(res)
    check(res, res["health"]["payload_free_bytes"] == 1024, "the ring must be empty: nothing is lost or leaked")
    if w["frames_written"] < 2:
        peer_bug(f"Python writer could not place the 900-byte frame in an empty 1 KiB ring: {w['errors']}")


@peer_xfail("python-reader-single-slot-release: the Python reader remembers only the last frame's size; with "
            "two frames outstanding, releases return the wrong sizes, free space leaks and the writer "
            "ends with BufferFull (contract 3.5, A.5)")
def test_python_reader_leaks_space_with_two_frames_outstanding(zb):
    name = zb.name("ss")
    r = zb.spawn("py", "reader", [name, "-n", 400, "--sizes", "list:10,100", "--verify", "sequential",
                                  "--hold-pairs", "--timeout-ms", 3000, *RING_1K], label="py-reader").wait_ready()
    w = zb.run("cpp", "writer", [name, "-n", 400, "--sizes", "list:10,100", "--write-timeout-ms", 1000],
               label="cpp-writer")
    res = r.result(30)
    # Our side: a clear BufferFull (reader alive, no space) and nothing corrupted before it.
    if w["frames_written"] < 400:
        check(w, w["exit_code"] == 2 and w["exception_type"] == "BufferFullException",
              "our writer must end with a clear BufferFullException")
    check(res, res["verification_errors"] == 0 and res["frames_read"] == w["frames_written"],
          "every frame our writer wrote must reach the Python reader intact")
    if w["frames_written"] < 400:
        peer_bug(f"the ring's free space leaked away after {w['frames_written']} frames "
                 f"(Python reader left payload_free_bytes at {res['health']['payload_free_bytes']} of 1024)")


@peer_xfail("python-reader-leaks-semaphores: Reader.close() closes the semaphores before unlinking them, so "
            "sem.sem-w-NAME and sem.sem-r-NAME stay in /dev/shm (contract 6.3, A.1)")
def test_python_reader_close_leaves_semaphores(zb):
    name = zb.name("ls")
    assert_clean(zb.run("py", "create", [name, "--hold-ms", 1, *RING_16K], label="py-reader"))
    leaked = existing_objects(name)
    # Our side: our reader takes the name over and, when it closes, removes everything.
    assert_clean(zb.run("cpp", "create", [name, "--hold-ms", 1, *RING_16K], label="cpp-reader"))
    assert existing_objects(name) == [], f"our reader left {existing_objects(name)}"
    if leaked:
        peer_bug(f"the Python reader left {[p.name for p in leaked]}")


@peer_xfail("python-cannot-replace-crashed-reader: while the old writer is alive, a new Python reader fails "
            "with \"Shared memory already exists\" because its stale scan needs both PIDs dead "
            "(contract 6.4, A.6)")
def test_python_reader_cannot_replace_crashed_reader_while_writer_lives(zb):
    name = zb.name("cr")
    holder = zb.spawn("cpp", "create", [name, *RING_16K], label="cpp-crashed-reader").wait_ready()
    writer = zb.spawn("cpp", "writer", [name, "-n", 3, "-s", 100, "--linger-ms", 30000], label="cpp-writer")
    writer.wait_ready()
    holder.kill()
    attempt = zb.run("py", "create", [name, "--hold-ms", 1, *RING_16K], label="py-new-reader")
    # Our side: the attached writer is unharmed, and our reader can still take the name over.
    assert writer.running(), writer.logs()
    assert_clean(zb.run("cpp", "create", [name, "--hold-ms", 1, *RING_16K], label="cpp-new-reader"))
    writer.terminate()
    assert_clean(writer.result(20), frames_written=3)
    if attempt["exit_code"] != 0:
        peer_bug(f"the Python reader could not be created: {attempt['errors']}")


@peer_xfail("python-reader-rejects-empty-metadata: get_metadata() raises \"Invalid metadata size\" for "
            "zero-length metadata, which every writer may write (contract 4)")
def test_python_reader_rejects_empty_metadata(zb):
    name = zb.name("em")
    r = zb.spawn("py", "reader", [name, "-n", 2, "-s", 10, "--verify", "sequential", "--empty-metadata",
                                  *RING_16K], label="py-reader").wait_ready()
    w = zb.run("cpp", "writer", [name, "-n", 2, "-s", 10, "--empty-metadata"], label="cpp-writer")
    res = r.result(30)
    assert_clean(w, frames_written=2)
    frame_errors = [e for e in res["errors"] if not e.startswith("metadata")]
    check(res, res["frames_read"] == 2 and not frame_errors, "the frames themselves must arrive intact")
    if res["metadata_ok"] is not True:
        peer_bug(f"Python reader: {res['metadata_exception'] or res['errors']}")


@peer_xfail("python-reader-rejects-writer-replacement: a replacement writer starts again at sequence 1 and "
            "the Python reader raises SequenceError (contract 3.2, 6.4; our reader accepts it)")
def test_python_reader_rejects_replacement_writer(zb):
    name = zb.name("rw")
    r = zb.spawn("py", "reader", [name, "-n", 10, "-s", 300, "--verify", "sequential", "--timeout-ms", 5000,
                                  *RING_16K], label="py-reader").wait_ready()
    assert_clean(zb.run("cpp", "writer", [name, "-n", 5, "-s", 300], label="cpp-writer-1"), frames_written=5)
    second = zb.run("cpp", "writer", [name, "-n", 5, "-s", 300], label="cpp-writer-2")
    res = r.result(30)
    # Our side: the second writer attaches (the first one closed) and writes. If the Python reader
    # gives up (SequenceError) and closes while our writer is still writing, our writer must say
    # so clearly (ReaderDeadException).
    check(second, second["frames_written"] >= 1 and (
        (second["exit_code"] == 0 and second["frames_written"] == 5) or
        (second["exit_code"] == 2 and second["exception_type"] == "ReaderDeadException")),
        "our second writer must write its frames or report the reader's exit")
    check(res, res["frames_read"] >= 5, "the first writer's frames must have arrived")
    if res["frames_read"] < 10:
        peer_bug(f"Python reader: {res['exception_type']}: {res['errors']}")


@peer_xfail("python-writer-attaches-to-dead-reader: the Python writer checks only reader_pid != 0 when it "
            "connects, so it attaches to a crashed reader's buffer and writes into it while space lasts "
            "(contract 2.3, 6.2)")
def test_python_writer_attaches_to_dead_reader(zb):
    name = zb.name("dr")
    holder = zb.spawn("cpp", "create", [name, *RING_16K], label="cpp-crashed-reader").wait_ready()
    holder.kill()
    ours = zb.run("cpp", "writer", [name, "-n", 5, "-s", 100], label="cpp-writer")
    check(ours, ours["exit_code"] == 2 and ours["exception_type"] == "ReaderDeadException" and
          ours["frames_written"] == 0, "our writer must refuse a buffer whose reader is dead")
    theirs = zb.run("py", "writer", [name, "-n", 5, "-s", 100], label="py-writer")
    assert (SHM_DIR / name).exists()
    if theirs["exit_code"] == 0 and theirs["frames_written"] == 5:
        peer_bug("the Python writer wrote 5 frames into a buffer whose reader is dead")
