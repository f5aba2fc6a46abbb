"""Fixtures of the zerobuffer_native suite: unique buffer names, helper processes, and a check
that nothing carrying this session's tag is left in /dev/shm or /tmp/zerobuffer."""

import os
import pathlib
import secrets
import subprocess
import sys
import textwrap

import pytest

SESSION_TAG = "zbpy" + secrets.token_hex(3)
SHM = pathlib.Path("/dev/shm")
LOCKS = pathlib.Path("/tmp/zerobuffer")
_serial = [0]


def objects_of(name):
    return [SHM / name, SHM / f"sem.sem-w-{name}", SHM / f"sem.sem-r-{name}", LOCKS / f"{name}.lock"]


def leftovers():
    found = []
    for d in (SHM, LOCKS):
        if d.is_dir():
            found += [d / e for e in os.listdir(d) if SESSION_TAG in e]
    return sorted(found)


@pytest.fixture
def name(request):
    """A factory of unique buffer names; everything they can leave is removed afterwards."""
    made = []

    def make(tag="b"):
        _serial[0] += 1
        n = f"{SESSION_TAG}_{os.getpid()}_{_serial[0]}_{tag}"
        made.append(n)
        return n

    yield make
    import gc
    gc.collect()
    for n in made:
        for suffix in ("", "_request", "_response"):
            for p in objects_of(n + suffix):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass


@pytest.fixture
def spawn():
    """Runs a Python snippet in a child process (the package importable); killed at the end."""
    procs = []

    def start(code, *args):
        p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()


def pytest_sessionfinish(session, exitstatus):
    import gc
    gc.collect()
    left = leftovers()
    if left:
        for p in left:
            try:
                p.unlink()
            except OSError:
                pass
        session.config._zbpy_left = left
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left = getattr(config, "_zbpy_left", None)
    if left:
        terminalreporter.write_line(f"LEFTOVER CHECK FAILED: {[str(p) for p in left]}", red=True)
    else:
        terminalreporter.write_line(f"leftover check: nothing tagged {SESSION_TAG} remains in /dev/shm or "
                                    "/tmp/zerobuffer")
