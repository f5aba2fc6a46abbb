"""Topics with the real Python peer (docs/topics.md).

A Python zerobuffer-ipc Reader named TOPIC@ID is a subscriber of topic TOPIC, with no code of
ours on its side. The Python subscriber here is the snippet of docs/topics.md, run verbatim by
topic_snippet_driver.py; the publisher and the C++ subscribers are zerobuffer-topic-peer
(tests/topics/topic_peer.cpp), a small test program built with the C++ tests: the interop tool
speaks single buffers, and a topic needs a Publisher and Subscribers.
"""

import os
import pathlib
import sys

import pytest

from xl import INTEROP, HERE, Proc, check, existing_objects, wait_until

SIZES = "8:65536:20261204"   # MIN:MAX:SEED, the schedule of tests/topics/topic_data.h
METADATA = ["--metadata-bytes", "300", "--metadata-seed", "5"]
DRIVER = HERE / "topic_snippet_driver.py"


def _find_topic_peer():
    explicit = os.environ.get("ZEROBUFFER_TOPIC_PEER")
    if explicit:
        return pathlib.Path(explicit)
    candidates = [INTEROP.parent.parent / "tests" / "topics" / "zerobuffer-topic-peer"]
    for var in ("ZEROBUFFER_BUILD_DIR", "BUILD_DIR"):
        if os.environ.get(var):
            candidates.append(pathlib.Path(os.environ[var]) / "tests" / "topics" / "zerobuffer-topic-peer")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return candidates[0]


TOPIC_PEER = _find_topic_peer()


@pytest.fixture
def topic_peer():
    if not TOPIC_PEER.is_file():
        pytest.fail(f"{TOPIC_PEER} not found: build the C++ tests (ZEROBUFFER_BUILD_TESTS) or set ZEROBUFFER_TOPIC_PEER")
    return TOPIC_PEER


def topic_of(zb, tag, ids):
    """A unique topic; its subscriber buffers are registered for cleanup."""
    topic = zb.name(tag)
    zb.names += [f"{topic}@{i}" for i in ids]
    return topic


def spawn(zb, label, argv, ready=False):
    proc = Proc(label, [str(a) for a in argv], zb.workdir, ready)
    zb.procs.append(proc)
    return proc


def cpp_subscriber(zb, peer, topic, sub_id, frames, payload="1048576"):
    return spawn(zb, f"cpp-{sub_id}", [peer, "subscribe", topic, "--id", sub_id, "--frames", frames, "--sizes", SIZES,
                                       *METADATA, "--payload-size", payload, "--timeout-ms", "60000"], ready=True)


def py_subscriber(zb, topic, sub_id, *extra):
    return spawn(zb, f"py-{sub_id}", [sys.executable, DRIVER, topic, sub_id, "--sizes", SIZES, *METADATA, *extra])


def assert_clean_stream(result, frames, first=0):
    check(result, result["exit_code"] == 0, f"exit code {result['exit_code']}: {result.get('problem')}")
    check(result, result["bad"] == 0, f"bad frames: {result['problem']}")
    check(result, result["metadata_ok"], "metadata wrong")
    check(result, result["frames"] == frames, f"{result['frames']} frames, expected {frames}")
    check(result, result["first"] == first and result["last"] == first + frames - 1,
          f"numbers {result['first']}..{result['last']}")


def test_one_publisher_two_cpp_and_one_python_subscriber_ten_thousand_random_frames(zb, topic_peer):
    frames = 10000
    topic = topic_of(zb, "topic", ["cpp0", "cpp1", "py"])
    cpp = [cpp_subscriber(zb, topic_peer, topic, i, frames) for i in ("cpp0", "cpp1")]
    py = py_subscriber(zb, topic, "py")
    for c in cpp:
        c.wait_ready()
    pub = spawn(zb, "publisher", [topic_peer, "publish", topic, "--frames", frames, "--sizes", SIZES, *METADATA,
                                  "--wait-subscribers", 3, "--timeout-ms", 60000])
    published = pub.result(timeout=300)
    check(published, published["exit_code"] == 0, f"publisher failed: {published.get('error')}")
    check(published, published["published"] == frames, "frames published")
    subscribers = {s["buffer_name"]: s for s in published["subscribers"]}
    for sub_id in ("cpp0", "cpp1", "py"):
        s = subscribers.get(f"{topic}@{sub_id}")
        check(published, s is not None and s["state"] == "active", f"{sub_id}: {s}")
        check(published, s["delivered"] == frames and s["dropped"] == 0, f"{sub_id}: {s}")
    for c in cpp:
        assert_clean_stream(c.result(timeout=120), frames)
    py_result = py.result(timeout=300)
    assert_clean_stream(py_result, frames)
    print(f"python subscriber (the docs/topics.md snippet): {frames} frames in {py_result['seconds']} s")


def test_python_subscriber_that_leaves_has_its_leaked_semaphores_reclaimed_by_the_publisher(zb, topic_peer):
    """zerobuffer-ipc 1.3.0 leaves both semaphores behind when a Reader closes (contract §6.3);
    the running publisher finds them when it lists /dev/shm and reclaims them (orphaned)."""
    topic = topic_of(zb, "topic_leave", ["cpp", "py"])
    cpp = cpp_subscriber(zb, topic_peer, topic, "cpp", 3000)
    py = py_subscriber(zb, topic, "py", "--stop-after", 100)
    cpp.wait_ready()
    pub = spawn(zb, "publisher", [topic_peer, "publish", topic, "--frames", 3000, "--sizes", SIZES, *METADATA,
                                  "--wait-subscribers", 2, "--timeout-ms", 60000, "--pace-us", 1000,
                                  "--rescan-ms", 100])
    py_result = py.result(timeout=120)
    assert_clean_stream(py_result, 100)
    wait_until(lambda: not existing_objects(f"{topic}@py"), 10,
               f"the publisher to reclaim what the Python subscriber left: {existing_objects(topic + '@py')}")
    check(py_result, pub.running(), "the publisher was still running (it did the reclaiming)")
    published = pub.result(timeout=120)
    check(published, published["exit_code"] == 0, f"publisher failed: {published.get('error')}")
    states = {s["buffer_name"]: s for s in published["subscribers"]}
    check(published, states[f"{topic}@py"]["state"] == "gone", f"py: {states.get(topic + '@py')}")
    check(published, states[f"{topic}@cpp"]["delivered"] == 3000, f"cpp: {states.get(topic + '@cpp')}")
    assert_clean_stream(cpp.result(timeout=60), 3000)
