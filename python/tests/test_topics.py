"""Topics: one publisher and several subscribers (one in another process, one a plain
zerobuffer-ipc Reader), late join, slow subscribers under both policies, publisher death,
subscribers leaving and returning, bad input; every byte checked, nothing left behind."""

import os
import signal
import threading

import pytest

import zerobuffer_native as zb
from conftest import topic_objects
from helpers import wait_until
from topic_helpers import META, RING, frame_bytes, publish_all, read_all, sizes


# A subscriber process of either package. Arguments: package ("native" or "ipc"), topic, ID,
# frame count, seed. It prints "ready" once its buffer exists and at the end one line:
# "ok <frames> <metadata hex>" or "bad <reason>".
CHILD = """
import random, sys
import numpy as np
package, topic, sub_id, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
sizes = [rng.randint(1, 4000) for _ in range(count)]
def expected(k, size):
    return ((np.arange(size, dtype=np.uint32) * 7 + k) % 251).astype(np.uint8).tobytes()
if package == "native":
    import zerobuffer_native as zb
    reader = zb.Subscriber(topic, zb.BufferConfig(256, 256 * 1024), sub_id)
else:
    import zerobuffer as zb
    reader = zb.Reader(topic + "@" + sub_id, zb.BufferConfig(256, 256 * 1024 + 64))
print("ready", flush=True)
got, metadata = 0, None
while got < count:
    try:
        frame = reader.read_frame(timeout=1.0)
    except zb.WriterDeadException:
        if got:
            break
        continue  # zerobuffer-ipc says so while no writer has attached yet
    if frame is None:
        continue
    if metadata is None:
        view = reader.get_metadata()
        metadata = bytes(view) if view is not None else b""
    ok = frame.sequence == got + 1 and bytes(frame.data) == expected(got, sizes[got])
    if package == "native":
        frame.release()
    else:
        reader.release_frame(frame)
    if not ok:
        print(f"bad frame {got}", flush=True)
        sys.exit(1)
    got += 1
print(f"ok {got} {metadata.hex()}" if got == count else f"bad only {got} frames", flush=True)
reader.close()
"""


def start_child(spawn, package, topic, sub_id, count, seed):
    child = spawn(CHILD, package, topic, sub_id, count, seed)
    assert child.stdout.readline().strip() == b"ready", child.stderr.read().decode()
    return child


def child_result(child):
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err.decode()
    return out.decode().strip()


def test_one_publisher_three_subscribers_one_in_another_process(topic, spawn):
    t = topic()
    frame_sizes = sizes(n := 2000, seed=7)
    with zb.Publisher(t) as publisher:
        publisher.set_metadata(META)
        a = zb.Subscriber(t, RING, "a")
        b = zb.Subscriber(t, RING)  # an ID unique to this process and call
        child = start_child(spawn, "native", t, "child", n, 7)
        assert publisher.wait_for_subscribers(3, timeout=10.0)
        assert publisher.subscriber_count == 3
        assert b.id and b.buffer_name == f"{t}@{b.id}" and b.topic == t
        assert {i.id: i.reader_pid for i in publisher.subscribers()}["child"] == child.pid
        readers = [threading.Thread(target=read_all, args=(s, frame_sizes)) for s in (a, b)]
        for r in readers:
            r.start()
        publish_all(publisher, frame_sizes, 3)
        for r in readers:
            r.join(60)
        assert child_result(child) == f"ok {n} {META.hex()}"
        assert bytes(a.get_metadata()) == bytes(b.get_metadata()) == META
        assert a.frames_read == b.frames_read == publisher.frames_published == n
        infos = {i.id: i for i in publisher.subscribers()}
        assert infos["a"].state is zb.SubscriberState.ACTIVE and infos["a"].frames_delivered == n
        assert infos["child"].frames_delivered == n and infos["child"].frames_dropped == 0
        # It closed after its last frame: the publisher notices (its 100 ms check) and lets go.
        wait_until(lambda: {i.id: i.state for i in publisher.subscribers()}["child"] is zb.SubscriberState.GONE)
        assert publisher.subscriber_count == 2
        a.close()
        b.close()
    assert topic_objects(t) == []


def test_a_plain_zerobuffer_ipc_reader_joins_a_topic(topic, spawn):
    t = topic()
    frame_sizes = sizes(n := 500, seed=3)
    with zb.Publisher(t) as publisher:
        publisher.set_metadata(META)
        child = start_child(spawn, "ipc", t, "python-peer", n, 3)
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        publish_all(publisher, frame_sizes, 1)
        assert child_result(child) == f"ok {n} {META.hex()}"
    # zerobuffer-ipc leaves its semaphores behind; the topic fixture removes them.


def test_a_late_joiner_gets_the_metadata_then_every_later_frame(topic):
    t = topic()
    with zb.Publisher(t) as publisher, zb.Subscriber(t, RING, "early") as early:
        publisher.set_metadata(META)
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        for k in range(50):
            assert publisher.publish(frame_bytes(k, 100)) == 1
        with zb.Subscriber(t, RING, "late") as late:
            assert publisher.wait_for_subscribers(2, timeout=10.0)
            assert bytes(late.get_metadata()) == META  # before its first frame
            for k in range(50, 80):
                assert publisher.publish(frame_bytes(k, 100)) == 2
            read_all(late, [100] * 30, first=50)
            assert late.try_read_frame() is None
        read_all(early, [100] * 80)


def past_a_stalled_subscriber(publisher, t, count):
    """Publishes `count` 1000-byte frames to a subscriber read by a thread and one that never
    reads (a 4 KiB ring); returns both and what each publish returned."""
    fast = zb.Subscriber(t, RING, "fast")
    stalled = zb.Subscriber(t, zb.BufferConfig(metadata_size=64, payload_size=4096), "stalled")
    assert publisher.wait_for_subscribers(2, timeout=10.0)
    reader = threading.Thread(target=read_all, args=(fast, [1000] * count))
    reader.start()
    got = [publisher.publish(frame_bytes(k, 1000)) for k in range(count)]
    reader.join(60)
    assert not reader.is_alive()
    assert fast.frames_read == count  # every frame, every byte (read_all)
    return fast, stalled, got


def test_drop_policy_a_stalled_subscriber_misses_frames_counted_exactly(topic):
    t = topic()
    with zb.Publisher(t, policy=zb.SlowSubscriberPolicy.DROP) as publisher:
        fast, stalled, got = past_a_stalled_subscriber(publisher, t, 200)
        info = {i.id: i for i in publisher.subscribers()}["stalled"]
        assert info.state is zb.SubscriberState.ACTIVE
        assert info.frames_delivered + info.frames_dropped == 200 and info.frames_dropped > 0
        assert got.count(2) == info.frames_delivered and got.count(1) == info.frames_dropped
        # It holds exactly the delivered frames: the first ones, before its ring filled.
        read_all(stalled, [1000] * info.frames_delivered)
        assert stalled.try_read_frame() is None
        fast.close()
        stalled.close()


def test_block_policy_a_stalled_subscriber_is_dropped_reported_and_taken_back(topic):
    t = topic()
    changes = []
    with zb.Publisher(t, write_timeout=0.3, on_subscriber_change=changes.append) as publisher:
        paced, stalled, got = past_a_stalled_subscriber(publisher, t, 20)
        held = got.count(2)  # what the stalled ring took before the publish that timed out
        assert held >= 1 and got == [2] * held + [1] * (20 - held)
        info = {i.id: i for i in publisher.subscribers()}["stalled"]
        assert info.state is zb.SubscriberState.DROPPED and "300 ms" in info.reason
        wait_until(lambda: any(c.id == "stalled" and c.state is zb.SubscriberState.DROPPED for c in changes))
        # It reads what it holds, sees the departure, and is taken back as a new writer's.
        read_all(stalled, [1000] * held)
        with pytest.raises(zb.WriterDeadException):
            for _ in range(5):
                assert stalled.read_frame(timeout=10.0) is None, "a frame after the drop"
        assert publisher.wait_for_subscribers(2, timeout=10.0)
        assert publisher.publish(frame_bytes(0, 10)) == 2
        with stalled.read_frame(timeout=10.0) as frame:
            assert frame.sequence == 1 and bytes(frame) == frame_bytes(0, 10)
        assert all(isinstance(c, zb.SubscriberInfo) for c in changes)
        paced.close()
        stalled.close()


def test_publisher_death_is_reported_then_a_new_publisher_is_taken_up(topic, spawn):
    t = topic()
    code = """
import sys, time
import zerobuffer_native as zb
p = zb.Publisher(sys.argv[1])
p.set_metadata(b"first")
assert p.wait_for_subscribers(1, timeout=10.0)
for k in range(5):
    p.publish(bytes([k]) * 100)
print("published", flush=True)
time.sleep(60)
"""
    with zb.Subscriber(t, RING, "s") as s:
        child = spawn(code, t)
        assert child.stdout.readline().strip() == b"published", child.stderr.read().decode()
        for k in range(5):
            with s.read_frame(timeout=10.0) as frame:
                assert bytes(frame) == bytes([k]) * 100 and frame.sequence == k + 1
        assert s.is_publisher_connected()
        child.send_signal(signal.SIGKILL)
        child.wait()
        with pytest.raises(zb.WriterDeadException):
            s.read_frame(timeout=10.0)
        assert not s.is_publisher_connected()
        with zb.Publisher(t) as second:
            second.set_metadata(b"first")  # what the buffer holds: the same, so it carries on
            assert s.wait_for_publisher(timeout=10.0)
            assert second.wait_for_subscribers(1, timeout=10.0)
            assert second.publish(b"from the second") == 1
            with s.read_frame(timeout=10.0) as frame:
                assert frame.sequence == 1 and bytes(frame) == b"from the second"
            assert bytes(s.get_metadata()) == b"first"


def test_subscriber_api_and_a_second_subscriber_with_the_same_id(topic):
    t = topic()
    with zb.Subscriber(t, RING, "one") as s:
        assert repr(s) == f"Subscriber('{t}@one')" and s.is_open
        assert s.get_metadata() is None and s.try_read_frame() is None
        assert s.read_frame(timeout=0.05) is None and not s.is_publisher_connected()
        assert s.wait_for_publisher(timeout=0.05) is False
        assert s.health()["payload_size"] >= 256 * 1024
        with pytest.raises(zb.ReaderAlreadyConnectedException):
            zb.Subscriber(t, RING, "one")
        with zb.Publisher(t) as publisher:
            assert repr(publisher).startswith(f"Publisher('{t}'") and publisher.topic == t
            publisher.set_metadata(b"meta")
            assert publisher.wait_for_subscribers(1, timeout=10.0) and s.wait_for_publisher(timeout=10.0)
            publisher.publish(bytearray(b"abc"))
            frame = s.read_frame(timeout=10.0)
            s.release_frame(frame)
            assert frame.released and bytes(s.get_metadata()) == b"meta"
    assert not s.is_open and "closed" in repr(s)


def test_a_subscriber_that_leaves_is_gone_and_taken_back_when_it_returns(topic):
    t = topic()
    with zb.Publisher(t) as publisher:
        s = zb.Subscriber(t, RING, "x")
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        s.close()
        wait_until(lambda: publisher.subscriber_count == 0)
        assert publisher.publish(b"to nobody") == 0
        assert {i.id: i.state for i in publisher.subscribers()}["x"] is zb.SubscriberState.GONE
        with zb.Subscriber(t, RING, "x") as again:
            assert publisher.wait_for_subscribers(1, timeout=10.0)
            assert publisher.publish(b"back") == 1
            with again.read_frame(timeout=10.0) as frame:
                assert bytes(frame) == b"back"


def test_bad_input_gets_clear_errors_and_leaves_nothing(topic):
    t = topic()
    for bad in ("", "a/b", "a@b", "sem.x", "x" * 244):
        with pytest.raises(zb.InvalidNameException):
            zb.Publisher(bad)
        with pytest.raises(zb.InvalidNameException):
            zb.Subscriber(bad, RING, "id")
    with pytest.raises(zb.InvalidNameException, match="limit is 245"):
        zb.Subscriber(t + "x" * (243 - len(t)), RING, "too-long-id")
    with pytest.raises(zb.InvalidNameException):
        zb.Subscriber(t, RING, "a/b")
    with pytest.raises(zb.InvalidArgumentException, match="neither 'block' nor 'drop'"):
        zb.Publisher(t, policy="sometimes")
    with pytest.raises(TypeError):
        zb.Publisher(t, policy=1)
    with pytest.raises(zb.InvalidArgumentException):
        zb.Publisher(t, write_timeout=0)
    with pytest.raises(TypeError):
        zb.Publisher(t, on_subscriber_change=5)
    with pytest.raises(TypeError):
        zb.Subscriber(t, RING, 5)
    # A T@ID that is not a v1 buffer, and a subscriber whose metadata block is too small:
    # reported, and the publisher serves the others.
    junk = f"/dev/shm/{t}@junk"
    with open(junk, "wb") as f:
        f.write(b"not a zerobuffer" * 64)
    with zb.Publisher(t) as publisher:
        publisher.set_metadata(b"m" * 200)
        small = zb.Subscriber(t, zb.BufferConfig(metadata_size=64, payload_size=4096), "small")
        good = zb.Subscriber(t, RING, "good")
        wait_until(lambda: {i.id for i in publisher.subscribers() if i.state is not zb.SubscriberState.ACTIVE}
                   >= {"junk", "small"})
        states = {i.id: i for i in publisher.subscribers()}
        assert states["junk"].state is zb.SubscriberState.INVALID and states["junk"].reason
        assert states["small"].state is zb.SubscriberState.INCOMPATIBLE and states["small"].reason
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        with pytest.raises(zb.MetadataAlreadyWrittenException):
            publisher.set_metadata(b"again")
        with pytest.raises(zb.InvalidFrameSizeException):
            publisher.publish(b"")
        with pytest.raises(TypeError):
            publisher.publish("text")
        with pytest.raises(zb.InvalidFrameSizeException):
            publisher.acquire_frame(0)
        assert publisher.publish(b"served") == 1
        with good.read_frame(timeout=10.0) as frame:
            assert bytes(frame) == b"served"
        with pytest.raises(zb.InvalidArgumentException):
            publisher.wait_for_subscribers(1, timeout=-1)
        small.close()
        good.close()
    with zb.Publisher(t) as publisher:
        publisher.publish(b"no subscriber")
        with pytest.raises(zb.UsageException, match="first publish"):
            publisher.set_metadata(b"too late")  # subscribers must have it before their first frame
    os.unlink(junk)
    assert topic_objects(t) == []
