"""Fixtures of the `zerobuffer` command suite (tests/cli/README.md).

* `env` (per test): unique names, peers, hand-made objects, and a finaliser that kills every
  process the test started and removes every object its names can leave, even on failure.
* A session check that no object carrying this session's tag is left in /dev/shm or
  /tmp/zerobuffer (the tests' own removals and the command's cleanups included).
"""

import os

import pytest

from clitest import CLI, INTEROP, TAG, Env, session_leftovers


def pytest_configure(config):
    for what, path in (("zerobuffer", CLI), ("zerobuffer-interop", INTEROP)):
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise pytest.UsageError(f"{what} not found at {path}: build the project with tools enabled and set "
                                    "ZEROBUFFER_CLI / ZEROBUFFER_INTEROP (tests/cli/run.sh does this)")


def pytest_report_header(config):
    from importlib.metadata import version
    return [f"zerobuffer: {CLI}", f"zerobuffer-interop: {INTEROP}",
            f"zerobuffer-ipc {version('zerobuffer-ipc')}, session tag {TAG}"]


@pytest.fixture
def env(tmp_path):
    helper = Env(tmp_path)
    yield helper
    helper.cleanup()


def pytest_sessionfinish(session, exitstatus):
    leftovers = session_leftovers()
    if leftovers:
        for path in leftovers:
            try:
                path.unlink()
            except OSError:
                pass
        session.config._zbcli_leftovers = leftovers
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    leftovers = getattr(config, "_zbcli_leftovers", None)
    if leftovers:
        terminalreporter.write_line(f"LEFTOVER CHECK FAILED: {len(leftovers)} object(s) of this session were left "
                                    f"behind (now removed): {', '.join(map(str, leftovers))}", red=True)
    else:
        terminalreporter.write_line(f"leftover check: no object tagged {TAG} remains")
