"""`zerobuffer ls` and `zerobuffer inspect` see buffers created by our Reader and by the Python
package, with a writer of either language attached; the JSON is checked field by field against
the processes and the segment's own bytes."""

import os
import pwd

import pytest

from clitest import EXIT_OK, LOCK_DIR, SHM, TAG, listed, oieb_bytes, read_oieb, zb, zb_json

PAIRS = [("cpp", "cpp"), ("cpp", "py"), ("py", "py"), ("py", "cpp")]
PAIR_IDS = [f"{r}_reader-{w}_writer" for r, w in PAIRS]
METADATA = "yuv420p 640x480"
FRAMES = 5
FRAME_SIZE = 100


def expected_mode(lang):
    if lang == "cpp":
        return "0600"  # BufferConfig default: owner only
    umask = os.umask(0)
    os.umask(umask)
    return f"{0o666 & ~umask:04o}"  # the Python package asks for 0666, the umask applies


def check_peer(peer, proc, lang):
    assert peer["pid"] == proc.pid
    assert peer["state"] == "alive"
    assert peer["zerobuffer"] is (lang == "cpp")  # only our peers hold a liveness lock
    assert peer["pid_recycled"] is False
    assert peer["process"] == ("zerobuffer-inte" if lang == "cpp" else "python")[:15]


def check_buffer_json(b, name, reader, writer, rlang, wlang):
    raw = read_oieb(name)
    assert b["name"] == name
    assert b["topic"] is None
    assert b["state"] == "live"
    assert b["reclaimable"] is False and b["temporary"] is False
    assert b["has_segment"] is True and b["oieb_valid"] is True and b["oieb_problem"] == ""
    assert b["segment_size"] == 128 + 1024 + 65536 == os.path.getsize(SHM / name)
    assert b["error"] == ""
    o = b["oieb"]
    assert o["oieb_size"] == 128 and o["version"] == "1.0.0"
    for field in ("metadata_size", "metadata_free_bytes", "metadata_written_bytes", "payload_size",
                  "payload_free_bytes", "payload_write_pos", "payload_read_pos", "payload_written_count",
                  "payload_read_count", "writer_pid", "reader_pid"):
        assert o[field] == raw[field], field  # the segment's own bytes (nothing moves: no reader reads)
    assert o["metadata_size"] == 1024 and o["payload_size"] == 65536
    assert o["writer_pid"] == writer.pid and o["reader_pid"] == reader.pid
    assert o["payload_written_count"] == FRAMES and o["payload_read_count"] == 0

    m = b["metadata"]
    assert m["block_size"] == 1024
    assert m["length"] == len(METADATA) and m["written_bytes"] == 8 + len(METADATA)
    assert m["preview_text"] == METADATA
    assert m["preview_hex"] == " ".join(f"{c:02x}" for c in METADATA.encode())
    assert m["problem"] == ""

    h = b["health"]
    used = FRAMES * (16 + FRAME_SIZE)
    assert h["payload_size"] == 65536
    assert h["used_bytes"] == used and h["free_bytes"] == 65536 - used
    assert h["utilisation"] == pytest.approx(used / 65536, abs=1e-6)
    assert h["fill_percent"] == pytest.approx(100 * used / 65536, abs=1e-4)
    assert h["write_pos"] == used and h["read_pos"] == 0
    assert h["written_count"] == FRAMES and h["read_count"] == 0 and h["unread_count"] == FRAMES

    check_peer(b["writer"], writer, wlang)
    check_peer(b["reader"], reader, rlang)
    lock = b["lock_file"]
    assert lock["path"] == str(LOCK_DIR / f"{name}.lock")
    assert lock["state"] == "held" and lock["holder_pid"] == reader.pid
    assert lock["holder_process"] == b["reader"]["process"]
    assert b["csharp_lock"]["state"] == "absent" and b["csharp_lock"]["holder_pid"] is None
    assert b["csharp_lock"]["path"].endswith(f"/zerobuffer/locks/{name}.lock")

    objects = {o["kind"]: o for o in b["objects"]}
    assert set(objects) == {"segment", "write-semaphore", "read-semaphore", "lock-file"}
    assert objects["segment"]["path"] == f"/dev/shm/{name}"
    assert objects["write-semaphore"]["path"] == f"/dev/shm/sem.sem-w-{name}"
    assert objects["read-semaphore"]["path"] == f"/dev/shm/sem.sem-r-{name}"
    assert objects["lock-file"]["path"] == str(LOCK_DIR / f"{name}.lock")
    me = pwd.getpwuid(os.geteuid()).pw_name
    for kind in ("segment", "write-semaphore", "read-semaphore"):
        obj = objects[kind]
        assert obj["uid"] == os.geteuid() and obj["owner"] == me and obj["regular"] is True
        assert obj["mode"] == expected_mode(rlang), kind
    assert objects["segment"]["size"] == b["segment_size"]


@pytest.mark.parametrize("rlang,wlang", PAIRS, ids=PAIR_IDS)
def test_inspect_and_ls_json(env, rlang, wlang):
    name = env.name(f"{rlang}{wlang}")
    reader = env.reader(rlang, name)
    writer = env.writer(wlang, name, FRAMES, size=FRAME_SIZE, metadata=METADATA)
    env.wait_written(name, FRAMES)

    check_buffer_json(zb_json("inspect", name), name, reader, writer, rlang, wlang)
    listing = zb_json("ls")
    entry = listed(listing, name)
    assert entry is not None, f"{name} not listed"
    assert entry in listing["buffers"]
    check_buffer_json(entry, name, reader, writer, rlang, wlang)


@pytest.mark.parametrize("rlang", ["cpp", "py"])
def test_ls_table_and_inspect_text(env, rlang):
    name = env.name(f"text{rlang}")
    reader = env.reader(rlang, name)
    writer = env.writer(rlang, name, 3, size=200, metadata="hello")
    env.wait_written(name, 3)

    r = zb("ls")
    assert r.returncode == EXIT_OK, r.stderr
    header = r.stdout.splitlines()[0].split()
    assert header == ["NAME", "TOPIC", "STATE", "METADATA", "PAYLOAD", "FILL", "WRITTEN", "READ", "WRITER", "READER"]
    row = next(line for line in r.stdout.splitlines() if line.startswith(name + " "))
    cells = row.split()
    assert cells[1:8] == ["-", "live", "1.0", "KiB", "64.0", "KiB", f"{100 * 3 * 216 / 65536:.1f}%"]
    assert f"{writer.pid} alive" in row and f"{reader.pid} alive" in row

    r = zb("inspect", name)
    assert r.returncode == EXIT_OK, r.stderr
    text = r.stdout
    assert f"buffer:     {name}\n" in text
    assert "state:      live: " in text
    assert 'metadata:   5 bytes (block of 1024): 68 65 6c 6c 6f  "hello"' in text
    assert "frames written 3, read 0 (3 not read yet)" in text
    assert f"reader:     pid {reader.pid} alive" in text
    assert f"writer:     pid {writer.pid} alive" in text
    assert f"lock file:  /tmp/zerobuffer/{name}.lock: held, holder {reader.pid}" in text
    assert "cleanup:    not reclaimable (live)" in text


@pytest.mark.parametrize("rlang", ["cpp", "py"])
def test_read_count_of_a_reading_reader(env, rlang):
    name = env.name(f"reading{rlang}")
    env.reader(rlang, name, reading=True)
    env.writer("cpp", name, 7, size=64)
    env.wait_written(name, 7, read=7)
    h = zb_json("inspect", name)["health"]
    assert h["written_count"] == 7 and h["read_count"] == 7 and h["unread_count"] == 0


def test_topics_group_buffers(env):
    topic = "cam"
    a, b = env.topic_name(topic, "front"), env.topic_name(topic, "rear")
    other = env.name("notopic")
    for n in (a, b, other):
        env.cpp_reader(n)
    listing = zb_json("ls")
    assert listed(listing, a)["topic"] == TAG + topic
    assert listed(listing, b)["topic"] == TAG + topic
    assert listed(listing, other)["topic"] is None
    groups = {t["topic"]: t["buffers"] for t in listing["topics"]}
    assert groups[TAG + topic] == sorted([a, b])
    assert zb_json("inspect", a)["topic"] == TAG + topic

    r = zb("ls", "--match", f"{TAG}*")
    assert r.returncode == EXIT_OK
    rows = [line.split()[0] for line in r.stdout.splitlines()[1:4]]
    assert rows == [other, a, b]  # no topic first, then grouped by topic
    assert f"topics: {TAG}{topic} (2)" in r.stdout


def test_recognised_by_header_not_by_name(env):
    """A v1 segment with no semaphores or lock file is listed; files that are not v1 are not."""
    handmade = env.name("handmade")
    env.make_v1_segment(handmade, reader_pid=0)
    wrong_sizes = env.name("wrongsizes")
    env.make_segment(wrong_sizes, oieb_bytes(64, 1024) + bytes(100))
    not_v1 = env.name("notv1")
    env.make_segment(not_v1, b"PNG not a buffer".ljust(4096, b"\0"))
    empty = env.name("empty")
    env.make_segment(empty, b"")

    listing = zb_json("ls")
    entry = listed(listing, handmade)
    assert entry is not None and entry["state"] == "stale" and entry["oieb_valid"] is True
    assert entry["reader"]["pid"] == 0 and entry["reader"]["state"] == "absent"
    for n in (wrong_sizes, not_v1, empty):
        assert listed(listing, n) is None, n

    info = zb_json("inspect", wrong_sizes)
    assert info["state"] == "foreign" and info["oieb_valid"] is False
    assert "does not equal" in info["oieb_problem"]
    info = zb_json("inspect", not_v1)
    assert info["state"] == "foreign"
    assert info["header_text"].startswith("PNG not a buffer")
    assert info["header_hex"].startswith("50 4e 47 20")
    assert info["health"] is None and info["metadata"] is None
    assert info["reader"]["pid"] == 0 and info["writer"]["pid"] == 0  # its bytes name no peers
    text = zb("inspect", not_v1).stdout
    assert "oieb_size is 541544016, expected 128" in text and '"PNG not a buffer' in text
    assert "reader:" not in text and "writer:" not in text
    info = zb_json("inspect", empty)
    assert info["state"] == "half-created" and info["segment_size"] == 0
