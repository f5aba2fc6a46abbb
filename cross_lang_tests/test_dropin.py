"""The drop-in claim: pypeer.py, the driver written against zerobuffer-ipc, runs unchanged with
zerobuffer_native imported under the name zerobuffer (ZEROBUFFER_PYPEER_PACKAGE=native enters
it in sys.modules as zerobuffer, zerobuffer.exceptions and zerobuffer.duplex; no other line of
pypeer.py knows which package it drives). The other files run it against zerobuffer-ipc and the
C++ programs; here it talks to itself, and then meets the peer's known bugs (test_peer_bugs.py),
which it does not have."""

import pytest

from xl import NATIVE_AVAILABLE, PYPEER, SHM_DIR, assert_clean, check, existing_objects

pytestmark = pytest.mark.skipif(not NATIVE_AVAILABLE, reason="zerobuffer_native is not installed in this venv")

SMALL = ["--metadata-size", 1024, "--payload-size", "1M"]
RING_1K = ["--metadata-size", 64, "--payload-size", 1024]
RING_16K = ["--metadata-size", 64, "--payload-size", "16K"]


def test_only_the_import_knows_the_package():
    """After the import block, no line of pypeer.py names zerobuffer_native or the package switch:
    the same code drives both packages. (Its private diagnostics read zerobuffer-ipc's _oieb
    where it exists and fall back to the public health() otherwise.)"""
    text = PYPEER.read_text()
    body = text[text.index("import zerobuffer  # noqa"):]
    assert "zerobuffer_native" not in body and "PACKAGE" not in body


def test_native_stream_to_itself(zb):
    name = zb.name("di")
    sizes = "mixed:1:65536:20240601"
    r = zb.spawn("native", "reader", [name, "-n", 1000, "--sizes", sizes, "--verify", "sequential", "-m", "drop-in",
                                      *SMALL], label="native-reader").wait_ready()
    w = zb.run("native", "writer", [name, "-n", 1000, "--sizes", sizes, "-m", "drop-in", "--zero-copy"],
               label="native-writer")
    res = r.result(60)
    assert_clean(w, frames_written=1000, package="zerobuffer_native")
    assert_clean(res, frames_read=1000, last_sequence=1000, metadata_ok=True, package="zerobuffer_native")


def test_native_duplex_to_itself(zb):
    ch = zb.channel("did")
    server = zb.spawn("native", "duplex-server", [ch, "-n", 500, "--sizes", "mixed:1:4096:77", "--verify", "sequential",
                                                   *SMALL, "--max-ms", 90000], label="native-server").wait_ready()
    client = zb.run("native", "duplex-client", [ch, "-n", 500, "--sizes", "mixed:1:4096:77", "--timeout-ms", 10000],
                    timeout=120, label="native-client")
    assert_clean(client, responses_received=500, package="zerobuffer_native")
    assert_clean(server.result(60), requests_handled=500, client_disconnects=1, package="zerobuffer_native")


# The triggers of test_peer_bugs.py, with zerobuffer_native in zerobuffer-ipc's place: no bug shows.
def test_exact_fit_then_more_frames(zb):
    name = zb.name("xf")
    r = zb.spawn("cpp", "reader", [name, "-n", 9, "-s", 112, "--verify", "sequential", "--timeout-ms", 3000,
                                   *RING_1K], label="cpp-reader").wait_ready()
    assert_clean(zb.run("native", "writer", [name, "-n", 9, "-s", 112, "--delay-ms", 150]), frames_written=9)
    assert_clean(r.result(30), frames_read=9)


def test_unplaceable_frame_is_refused_at_once(zb):
    name = zb.name("st")
    r = zb.spawn("py", "reader", [name, "-n", 1, "--sizes", "list:584,884", "--verify", "sequential", "--delay-ms", 500,
                                  *RING_1K], label="py-reader").wait_ready()
    w = zb.run("native", "writer", [name, "-n", 2, "--sizes", "list:584,884", "--write-timeout-ms", 20000])
    check(w, w["exit_code"] == 2 and w["exception_type"] == "FrameTooLargeException" and w["frames_written"] == 1,
          "zerobuffer_native refuses the frame with FrameTooLargeException")
    check(w, w["duration_seconds"] < 5, "at once, not after a timeout")
    assert_clean(r.result(30), frames_read=1)


def test_two_frames_outstanding_leak_nothing(zb):
    name = zb.name("ss")
    r = zb.spawn("native", "reader", [name, "-n", 400, "--sizes", "list:10,100", "--verify", "sequential",
                                      "--hold-pairs", "--timeout-ms", 3000, *RING_1K], label="native-reader").wait_ready()
    w = zb.run("cpp", "writer", [name, "-n", 400, "--sizes", "list:10,100", "--write-timeout-ms", 1000])
    assert_clean(w, frames_written=400)
    res = r.result(30)
    assert_clean(res, frames_read=400)
    check(res, res["health"]["payload_free_bytes"] == 1024, "every byte of the ring is free again")


def test_close_leaves_no_semaphores(zb):
    name = zb.name("ls")
    assert_clean(zb.run("native", "create", [name, "--hold-ms", 1, *RING_16K]))
    assert existing_objects(name) == []


def test_replaces_a_crashed_reader_while_its_writer_lives(zb):
    name = zb.name("cr")
    holder = zb.spawn("cpp", "create", [name, *RING_16K], label="cpp-crashed-reader").wait_ready()
    writer = zb.spawn("cpp", "writer", [name, "-n", 3, "-s", 100, "--linger-ms", 30000], label="cpp-writer")
    writer.wait_ready()
    holder.kill()
    assert_clean(zb.run("native", "create", [name, "--hold-ms", 1, *RING_16K], label="native-new-reader"))
    writer.terminate()
    assert_clean(writer.result(20), frames_written=3)


def test_reads_empty_metadata(zb):
    name = zb.name("em")
    r = zb.spawn("native", "reader", [name, "-n", 2, "-s", 10, "--verify", "sequential", "--empty-metadata",
                                      *RING_16K], label="native-reader").wait_ready()
    assert_clean(zb.run("cpp", "writer", [name, "-n", 2, "-s", 10, "--empty-metadata"]), frames_written=2)
    assert_clean(r.result(30), frames_read=2, metadata_ok=True, metadata_size=0)


def test_refuses_a_dead_readers_buffer(zb):
    name = zb.name("dr")
    holder = zb.spawn("cpp", "create", [name, *RING_16K], label="cpp-crashed-reader").wait_ready()
    holder.kill()
    res = zb.run("native", "writer", [name, "-n", 5, "-s", 100])
    check(res, res["exit_code"] == 2 and res["exception_type"] == "ReaderDeadException" and res["frames_written"] == 0,
          "zerobuffer_native refuses a buffer whose reader is dead")
    assert (SHM_DIR / name).exists()
