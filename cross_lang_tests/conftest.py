"""Fixtures of the cross-language suite: our C++ `zerobuffer-interop` against the Python
`zerobuffer` package (zerobuffer-ipc from PyPI), each side in its own process.

* `zb` (per test): unique buffer names, process spawning, and a finaliser that kills what is
  still running and removes every object the test's names can leave behind, even on failure.
* A session check (pytest_sessionfinish) that no object carrying this session's tag is left.
"""

import os

import pytest

from xl import INTEROP, SESSION_TAG, ZB, session_leftovers


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    if not (INTEROP.is_file() and os.access(INTEROP, os.X_OK)):
        raise pytest.UsageError(
            f"zerobuffer-interop not found at {INTEROP}: build the project (tools enabled) and set "
            "ZEROBUFFER_BUILD_DIR or ZEROBUFFER_INTEROP (cross_lang_tests/run.sh does this)")
    import zerobuffer.oieb_view as oieb_view  # the atomic free-byte updates need libatomic
    if getattr(oieb_view, "_fetch_add_8", None) is None:
        raise pytest.UsageError("zerobuffer could not load libatomic: its payload_free_bytes updates would not be "
                                "atomic and the suite would test a broken peer (install libatomic1)")


def pytest_report_header(config):
    from importlib.metadata import PackageNotFoundError, version
    try:
        native = f"zerobuffer-native {version('zerobuffer-native')} (the third peer, as \"native\")"
    except PackageNotFoundError:
        native = "zerobuffer-native not installed: its cases are not collected"
    return [f"zerobuffer-interop: {INTEROP}",
            f"zerobuffer-ipc {version('zerobuffer-ipc')}, posix-ipc {version('posix-ipc')}, session tag {SESSION_TAG}",
            native]


@pytest.fixture
def zb(request, tmp_path):
    helper = ZB(request, tmp_path)
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
        session.config._zbxl_leftovers = leftovers
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    leftovers = getattr(config, "_zbxl_leftovers", None)
    if leftovers:
        terminalreporter.write_line(
            f"LEFTOVER CHECK FAILED: {len(leftovers)} object(s) of this session were left behind "
            f"(now removed): {', '.join(str(p) for p in leftovers)}", red=True)
    else:
        terminalreporter.write_line(f"leftover check: no object tagged {SESSION_TAG} remains in /dev/shm or "
                                    "/tmp/zerobuffer")
