"""States after `kill -9`: of the writer (writer-gone), of the reader (stale), of both (stale),
for readers and writers of both languages; and the evidence behind each verdict."""

import os
import time

import pytest

from clitest import dead_pid, listed, zb_json

LANGS = [("cpp", "cpp"), ("cpp", "py"), ("py", "py"), ("py", "cpp")]
LANG_IDS = [f"{r}_reader-{w}_writer" for r, w in LANGS]


def start(env, rlang, wlang, tag):
    name = env.name(f"{tag}{rlang}{wlang}")
    reader = env.reader(rlang, name)
    writer = env.writer(wlang, name, 3)
    env.wait_written(name, 3)
    assert zb_json("inspect", name)["state"] == "live"
    return name, reader, writer


def verdicts(name):
    info = zb_json("inspect", name)
    entry = listed(zb_json("ls"), name)
    assert entry is not None, f"{name} is not listed"
    for key in ("state", "reclaimable", "reader", "writer"):
        assert entry[key] == info[key], key  # ls and inspect judge alike
    return info


@pytest.mark.parametrize("rlang,wlang", LANGS, ids=LANG_IDS)
def test_writer_killed(env, rlang, wlang):
    name, reader, writer = start(env, rlang, wlang, "kw")
    writer.kill()
    info = verdicts(name)
    assert info["state"] == "writer-gone"
    assert info["reclaimable"] is False
    assert info["writer"]["pid"] == writer.pid and info["writer"]["state"] == "dead"
    assert info["writer"]["zerobuffer"] is False  # its lock died with it
    assert info["reader"]["pid"] == reader.pid and info["reader"]["state"] == "alive"
    assert info["lock_file"]["state"] == "held" and info["lock_file"]["holder_pid"] == reader.pid


@pytest.mark.parametrize("rlang,wlang", LANGS, ids=LANG_IDS)
def test_reader_killed(env, rlang, wlang):
    name, reader, writer = start(env, rlang, wlang, "kr")
    reader.kill()
    info = verdicts(name)
    assert info["state"] == "stale"
    assert info["reclaimable"] is True
    assert info["reader"]["pid"] == reader.pid and info["reader"]["state"] == "dead"
    assert info["writer"]["pid"] == writer.pid and info["writer"]["state"] == "alive"
    assert info["lock_file"]["state"] == "free" and info["lock_file"]["holder_pid"] is None


@pytest.mark.parametrize("rlang,wlang", LANGS, ids=LANG_IDS)
def test_both_killed(env, rlang, wlang):
    name, reader, writer = start(env, rlang, wlang, "kb")
    writer.kill()
    reader.kill()
    info = verdicts(name)
    assert info["state"] == "stale"
    assert info["reclaimable"] is True
    assert info["reader"]["state"] == "dead" and info["writer"]["state"] == "dead"
    assert info["health"]["written_count"] == 3  # the counters survive their processes
    kinds = sorted(o["kind"] for o in info["objects"])
    assert kinds == ["lock-file", "read-semaphore", "segment", "write-semaphore"]


def test_reader_closed_gracefully_leaves_nothing(env):
    name, reader, writer = start(env, "cpp", "cpp", "graceful")
    reader.terminate()
    reader.result(30)
    writer.kill()
    r = zb_json("ls")
    assert listed(r, name) is None


def test_recycled_reader_pid(env):
    """A reader PID that now names a process younger than the segment is judged dead."""
    name = env.name("recycled")
    path = env.make_v1_segment(name)
    # The process below must start clearly after the segment was created: the rule compares whole
    # seconds (file birth, boot time + start ticks), so up to 2 s can be lost to rounding.
    time.sleep(3.5)
    younger = env.helper("import time; print('ready', flush=True); time.sleep(120)")
    with open(path, "r+b") as f:
        f.seek(0x58)
        f.write(younger.pid.to_bytes(8, "little"))
    info = zb_json("inspect", name)
    assert info["reader"]["pid"] == younger.pid
    assert info["reader"]["pid_recycled"] is True
    assert info["reader"]["state"] == "dead"
    assert info["reader"]["process"] != ""  # the younger process is named
    assert info["state"] == "stale"


def test_live_pid_of_an_older_process_is_alive(env):
    """The same segment with the PID of a process older than it: alive, the buffer live."""
    name = env.name("olderpid")
    env.make_v1_segment(name, reader_pid=os.getpid())
    info = zb_json("inspect", name)
    assert info["reader"]["state"] == "alive" and info["reader"]["pid_recycled"] is False
    assert info["state"] == "live"


def test_dead_writer_pid_on_a_live_reader(env):
    name = env.name("deadwriterpid")
    env.make_v1_segment(name, reader_pid=os.getpid(), writer_pid=dead_pid())
    info = zb_json("inspect", name)
    assert info["state"] == "writer-gone" and info["writer"]["state"] == "dead"
