"""Data streams between our C++ side and the Python package, in both directions: every frame's
size, sequence and bytes are checked by the reader (patterns of contract section 10.1)."""

import hashlib

import pytest

import ringsim
import zbdata
from xl import DIRECTIONS, DIRECTION_IDS, LANGS, OURS, assert_clean, check

SMALL = ["--metadata-size", 1024, "--payload-size", "1M"]


def stream(zb, writer, reader, reader_args, writer_args, timeout=60):
    """Starts the reader (which creates the buffer), then the writer; returns both results."""
    name = zb.name("s")
    r = zb.spawn(reader, "reader", [name, *reader_args], label=f"{reader}-reader").wait_ready()
    w = zb.spawn(writer, "writer", [name, *writer_args], label=f"{writer}-writer", ready=False)
    return w.result(timeout), r.result(timeout), name


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_metadata_and_one_frame(zb, writer, reader):
    text = "camera=front;fps=30;żółw ✓"  # UTF-8, non-ASCII on purpose
    w, r, _ = stream(zb, writer, reader,
                     ["-n", 1, "-s", 1024, "--verify", "sequential", "-m", text, *SMALL],
                     ["-n", 1, "-s", 1024, "-m", text])
    assert_clean(w, frames_written=1, last_sequence=1)
    assert_clean(r, frames_read=1, first_sequence=1, last_sequence=1, metadata_ok=True,
                 metadata_size=len(text.encode()), bytes_read=1024)


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_longest_buffer_name(zb, writer, reader):
    """245 characters, the longest name every peer can use (glibc allows 251 after "sem.", and
    "sem-w-" costs 6; contract section 1.2)."""
    name = zb.long_name(245)
    r = zb.spawn(reader, "reader", [name, "-n", 3, "-s", 64, "--verify", "sequential", *SMALL],
                 label=f"{reader}-reader").wait_ready()
    assert_clean(zb.run(writer, "writer", [name, "-n", 3, "-s", 64]), frames_written=3)
    assert_clean(r.result(30), frames_read=3)


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_binary_metadata_fills_the_block(zb, writer, reader):
    # 8-byte length prefix + 1016 bytes = exactly the 1024-byte metadata block.
    w, r, _ = stream(zb, writer, reader,
                     ["-n", 3, "-s", 100, "--verify", "sequential", "--metadata-bytes", 1016, *SMALL],
                     ["-n", 3, "-s", 100, "--metadata-bytes", 1016])
    assert_clean(w, frames_written=3)
    assert_clean(r, frames_read=3, metadata_ok=True, metadata_size=1016)


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_1000_frames_of_mixed_sizes(zb, writer, reader):
    sizes = "mixed:1:65536:20240601"
    # The Python writer must never end a frame exactly at the ring's end (peer bug, see
    # test_peer_bugs.py); with this seed and a 1 MiB ring it does not. Checked here so that a
    # change of seed or ring cannot silently move the test out of the envelope.
    S, p = 1024 * 1024, 0
    schedule = zbdata.SizeSchedule.parse(sizes)
    for k in range(1000):
        kind, p, _ = ringsim.python_step(S, p, 16 + schedule.size(k))
        assert kind not in ("exact_fit", "stall", "after_exact_fit"), f"seed leaves the envelope at frame {k}"
    w, r, _ = stream(zb, writer, reader,
                     ["-n", 1000, "--sizes", sizes, "--verify", "sequential", *SMALL],
                     ["-n", 1000, "--sizes", sizes])
    total = sum(schedule.size(k) for k in range(1000))
    assert_clean(w, frames_written=1000, last_sequence=1000, bytes_written=total)
    assert_clean(r, frames_read=1000, first_sequence=1, last_sequence=1000, bytes_read=total)
    check(r, r["health"]["read_count"] > 1000, "the stream should have wrapped (wrap markers counted)")


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_zero_copy_writers(zb, writer, reader):
    """The writers' zero-copy paths (get_frame_buffer/commit_frame, acquire_frame/commit), which
    store write_pos differently from write_frame in the Python package (contract section 3.3)."""
    sizes = "mixed:1:30000:5150"
    w, r, _ = stream(zb, writer, reader,
                     ["-n", 300, "--sizes", sizes, "--verify", "sequential", "--metadata-size", 64,
                      "--payload-size", "64K"],
                     ["-n", 300, "--sizes", sizes, "--zero-copy"])
    assert_clean(w, frames_written=300, last_sequence=300)
    assert_clean(r, frames_read=300, last_sequence=300)


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_20000_frames_heavy_wraparound(zb, writer, reader, tmp_path):
    """20,000 frames through a 4 KiB ring: ~2,600 wraps. For our writer the schedule includes
    frames that fill the ring exactly and frames that would leave a 1..15-byte tail (our writer
    wraps early instead); for the Python writer it includes frames leaving 1..15-byte tails
    (it wraps without a marker; our reader must follow), but no exact fits (peer bug)."""
    S, count = 4096, 20000
    model = "cpp" if writer in OURS else "python"  # zerobuffer_native writes with the C++ writer
    sizes, stats = ringsim.wrap_schedule(model, S, count, seed=4242, max_n=1000)
    if writer in OURS:
        assert stats.get("exact_fit", 0) >= 50 and stats.get("early_wrap", 0) >= 50, stats
    else:
        assert stats.get("wrap_no_marker", 0) >= 100 and stats.get("exact_fit", 0) == 0, stats
    sizes_file = tmp_path / "sizes.txt"
    sizes_file.write_text("\n".join(map(str, sizes)) + "\n")
    spec = f"file:{sizes_file}"
    w, r, _ = stream(zb, writer, reader,
                     ["-n", count, "--sizes", spec, "--verify", "sequential", "--metadata-size", 64,
                      "--payload-size", S, "--timeout-ms", 10000],
                     ["-n", count, "--sizes", spec, "--write-timeout-ms", 10000], timeout=120)
    assert_clean(w, frames_written=count, last_sequence=count, bytes_written=sum(sizes))
    assert_clean(r, frames_read=count, first_sequence=1, last_sequence=count, bytes_read=sum(sizes))
    # Counters: written_count = frames + every wrap the writer counts; read_count = frames + the
    # markers the reader consumed. The Python writer also counts its markerless wraps; our reader
    # does not count the implicit wraps it follows (contract section 3.9).
    check(w, w["health"]["written_count"] == count + stats["wraps"],
          f"writer counted {w['health']['written_count']}, model says {count} frames + {stats['wraps']} wraps ({stats})")
    check(r, r["health"]["read_count"] == count + stats["markers"],
          f"reader counted {r['health']['read_count']}, model says {count} frames + {stats['markers']} markers ({stats})")
    check(r, r["health"]["payload_free_bytes"] == S, "every byte of the ring should be free after the drain")


@pytest.mark.parametrize("writer,reader", DIRECTIONS, ids=DIRECTION_IDS)
def test_200_large_frames_through_256_mib(zb, writer, reader):
    """1080p YUV420 frames (3,110,400 B) through a 256 MiB ring: wraps after frames 86 and 172."""
    n, size = 200, 3110400
    w, r, _ = stream(zb, writer, reader,
                     ["-n", n, "-s", size, "--verify", "sequential", "--metadata-size", 4096, "--payload-size", "256M",
                      "--timeout-ms", 10000],
                     ["-n", n, "-s", size, "-m", "yuv420p 1920x1080"], timeout=120)
    assert_clean(w, frames_written=n, bytes_written=n * size)
    assert_clean(r, frames_read=n, last_sequence=n, bytes_read=n * size)
    check(r, r["health"]["read_count"] == n + 2, "two wrap markers expected (after frames 86 and 172)")


@pytest.mark.parametrize("py", [lang for lang in LANGS if lang != "cpp"])
def test_relay_python_to_python_through_cpp(zb, py):
    """Python writer -> C++ relay -> Python reader: metadata and 500 mixed frames unchanged."""
    a, b = zb.name("in"), zb.name("out")
    sizes = "mixed:1:20000:99"
    reader = zb.spawn(py, "reader", [b, "-n", 500, "--sizes", sizes, "--verify", "sequential", "-m", "relayed",
                                       *SMALL], label=f"{py}-reader").wait_ready()
    relay = zb.spawn("cpp", "relay", [a, b, "-n", 500, *SMALL], label="cpp-relay").wait_ready()
    w = zb.run(py, "writer", [a, "-n", 500, "--sizes", sizes, "-m", "relayed"], label=f"{py}-writer")
    assert_clean(w, frames_written=500)
    assert_clean(relay.result(60), frames_relayed=500, metadata_relayed=True, metadata_size=7)
    assert_clean(reader.result(60), frames_read=500, metadata_ok=True)


def _expected_md5(count, size):
    src = zbdata.PatternSource("sequential", size)
    return [{"frame": k, "checksum": hashlib.md5(src.frame(k, size)).hexdigest()} for k in range(count)]


def test_upstream_python_reader_reads_cpp_writer(zb):
    """The upstream harness program `python -m zerobuffer.cross_platform reader` (1024 B / 1 MiB
    buffer) verifies our writer's sequential pattern and prints MD5 checksums that match."""
    name = zb.name("up")
    reader = zb.upstream("reader", [name, "-n", 100, "-s", 1024, "--verify", "sequential", "--checksum",
                                    "--json-output", "--timeout-ms", 10000], "upstream-py-reader")
    # The upstream program has no readiness signal: its semaphores are created last.
    from xl import SHM_DIR, wait_until
    wait_until(lambda: (SHM_DIR / f"sem.sem-r-{name}").exists() or reader.popen.poll() is not None, 15,
               "the upstream reader's buffer")
    w = zb.run("cpp", "writer", [name, "-n", 100, "-s", 1024, "--pattern", "sequential"], label="cpp-writer")
    assert_clean(w, frames_written=100)
    r = reader.result(60)
    assert_clean(r, frames_read=100)
    check(r, r["checksums"] == _expected_md5(100, 1024), "upstream MD5 checksums differ from the pattern's")


def test_upstream_python_writer_to_cpp_reader(zb):
    """The upstream `python -m zerobuffer.cross_platform writer` into our reader; our --checksum
    MD5 values equal those of the pattern."""
    name = zb.name("up")
    reader = zb.spawn("cpp", "reader", [name, "-n", 100, "-s", 1024, "--verify", "sequential", "--checksum",
                                        "-m", "upstream", *SMALL], label="cpp-reader").wait_ready()
    w = zb.upstream("writer", [name, "-n", 100, "-s", 1024, "--pattern", "sequential", "-m", "upstream",
                               "--json-output"], "upstream-py-writer").result(60)
    assert_clean(w, frames_written=100)
    r = reader.result(60)
    assert_clean(r, frames_read=100, metadata_ok=True)
    check(r, r["checksums"] == _expected_md5(100, 1024), "our MD5 checksums differ from the pattern's")
