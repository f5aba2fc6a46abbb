"""`zerobuffer watch`: rates from written_count and write_pos, fill level and liveness, plain
lines when piped, ANSI redraws on a terminal, JSON lines, and a clean stop on SIGINT/SIGTERM."""

import json
import os
import pty
import signal
import subprocess
import time

import pytest

from clitest import CLI, EXIT_OK, zb

FRAME = 1000  # 1016 bytes on the ring per frame


def streaming(env, name, wlang="cpp"):
    """A C++ reader reading everything and a writer writing a frame every 5 ms. The 1 MiB ring
    turns over once per ~1000 frames, far less than once per sample, so MiB/s is exact."""
    env.cpp_reader(name, payload="1M", reading=True)
    env.writer(wlang, name, 0, size=FRAME, delay_ms=5)
    env.wait_written(name, 5)


# A header read can catch a writer between its count and its position update: that must not
# read as a turn of the ring. Ten samples make such a catch likely (the exact rule is checked
# in admin_api_test.cpp, WatchRates).
@pytest.mark.parametrize("wlang", ["cpp", "py"], ids=["cpp_writer", "py_writer"])
def test_json_lines_rates(env, wlang):
    name = env.name(f"rates{wlang}")
    streaming(env, name, wlang)
    r = zb("watch", name, "--interval-ms", "300", "--count", "10", "--json", timeout=30)
    assert r.returncode == EXIT_OK, r.stderr
    samples = [json.loads(line) for line in r.stdout.splitlines()]
    assert [s["sample"] for s in samples] == list(range(1, 11))
    first = samples[0]["buffers"][0]
    assert first["name"] == name and first["state"] == "live"
    assert first["frames_per_second"] is None and first["mib_per_second"] is None  # nothing to compare yet
    counts = [s["buffers"][0]["health"]["written_count"] for s in samples]
    assert counts == sorted(counts) and counts[-1] > counts[0]
    moving = 0
    for s in samples[1:]:
        b = s["buffers"][0]
        # No rate floor: a writer starved by a loaded machine may write nothing for an interval.
        assert b["frames_per_second"] >= 0 and b["mib_per_second"] >= 0
        if b["frames_per_second"] > 0:
            moving += 1
            # Bytes per counted unit: 1016 per frame, plus the wrap waste, over frames and wrap
            # markers (written_count counts both: one marker per ring turn of 1032 frames here).
            per_unit = b["mib_per_second"] * 1024 * 1024 / b["frames_per_second"]
            assert 1016 * 0.99 <= per_unit < 1016 * 1.1, per_unit
        else:
            assert b["mib_per_second"] == 0
        assert b["mib_per_second_is_lower_bound"] is False
        assert b["writer"]["state"] == "alive" and b["reader"]["state"] == "alive"
        assert 0.0 <= b["health"]["utilisation"] <= 1.0
    assert moving > 0, "no interval saw the writer move: the rate checks above proved nothing"
    times = [s["time"] for s in samples]
    # Samples never come faster than the interval; later only when the machine starves watch.
    assert 0.25 <= (times[-1] - times[0]) / 9 <= 5.0


def test_rates_stay_exact_when_the_ring_turns_several_times_per_refresh(env):
    """A 64 KiB ring turns about three times a second here; sampling between refreshes follows it."""
    name = env.name("laps")
    env.cpp_reader(name, payload="64K", reading=True)
    env.cpp_writer(name, 0, size=FRAME, delay_ms=5)
    env.wait_written(name, 5)
    r = zb("watch", name, "--interval-ms", "1000", "--count", "3", "--json", timeout=30)
    assert r.returncode == EXIT_OK, r.stderr
    samples = [json.loads(line)["buffers"][0] for line in r.stdout.splitlines()]
    for b in samples[1:]:
        turns = b["mib_per_second"] * 1024 * 1024 / 65536
        assert turns > 1.0, f"the ring turned only {turns:.2f} times per second: the test proves nothing"
        # 64 frames of 1016 bytes and one wrap marker per turn, 512 bytes of wrap waste.
        per_unit = b["mib_per_second"] * 1024 * 1024 / b["frames_per_second"]
        assert 65536 / 65 * 0.98 <= per_unit <= 65536 / 65 * 1.02, per_unit
        assert b["mib_per_second_is_lower_bound"] is False


def test_plain_lines_when_piped(env):
    name = env.name("plain")
    streaming(env, name)
    r = zb("watch", name, "--interval-ms", "200", "--count", "3", timeout=30)
    assert r.returncode == EXIT_OK
    lines = r.stdout.splitlines()
    assert len(lines) == 3 and "\x1b[" not in r.stdout
    assert all(f" {name} state=live frames/s=" in line for line in lines)
    assert " frames/s=- MiB/s=- " in lines[0]
    assert " frames/s=- " not in lines[2]
    assert " writer=" in lines[2] and " alive" in lines[2]


def test_liveness_verdicts_follow_the_peers(env):
    name = env.name("verdicts")
    env.cpp_reader(name)
    writer = env.cpp_writer(name, 1)
    env.wait_written(name, 1)
    proc = subprocess.Popen([str(CLI), "watch", name, "--interval-ms", "100", "--json"], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert json.loads(proc.stdout.readline())["buffers"][0]["state"] == "live"
        writer.kill()
        deadline = time.monotonic() + 10
        while True:
            b = json.loads(proc.stdout.readline())["buffers"][0]
            if b["state"] == "writer-gone":
                assert b["writer"]["state"] == "dead"
                break
            assert time.monotonic() < deadline, "watch never reported the writer's death"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stops_cleanly_on_signal(env, sig):
    name = env.name("signal")
    env.cpp_reader(name)
    proc = subprocess.Popen([str(CLI), "watch", name, "--interval-ms", "5000"], stdout=subprocess.PIPE, text=True)
    try:
        assert name in proc.stdout.readline()
        t0 = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=5) == EXIT_OK
        assert time.monotonic() - t0 < 2.5  # not after the 5 s interval
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def test_redraws_on_a_terminal(env):
    name = env.name("tty")
    env.cpp_reader(name)
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(CLI), "watch", name, "--interval-ms", "100", "--count", "2"], stdout=slave,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    out = b""
    try:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=10) == EXIT_OK
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode(errors="replace")
    assert text.count("\x1b[H\x1b[2J") == 2  # one redraw per sample
    assert "zerobuffer watch" in text and "(Ctrl-C to stop)" in text
    assert name in text and "FRAMES/S" in text


def test_buffer_that_goes_away_is_shown_absent(env):
    name = env.name("goes")
    reader = env.cpp_reader(name)
    proc = subprocess.Popen([str(CLI), "watch", name, "--interval-ms", "100"], stdout=subprocess.PIPE, text=True)
    try:
        assert "state=live" in proc.stdout.readline()
        reader.terminate()  # a graceful close removes the buffer
        deadline = time.monotonic() + 10
        while "state=absent" not in proc.stdout.readline():
            assert time.monotonic() < deadline
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
