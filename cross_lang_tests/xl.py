"""Helpers of the cross-language suite: peers as processes, buffer names, OIEB access, cleanup."""

import importlib.util
import json
import os
import pathlib
import secrets
import signal
import struct
import subprocess
import sys
import time

# How long a spawned reader waits for its first frame (see ZB.command).
FIRST_FRAME_TIMEOUT_MS = 30000

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
PYPEER = HERE / "pypeer.py"
SESSION_TAG = "zbxl" + secrets.token_hex(3)  # every object this session creates carries it
LOCK_DIR = pathlib.Path("/tmp/zerobuffer")
SHM_DIR = pathlib.Path("/dev/shm")

OIEB_FORMAT = "<I4B11Q4Q"  # contract section 2.2
OIEB_FIELDS = ("oieb_size", "v_major", "v_minor", "v_patch", "v_reserved", "metadata_size",
               "metadata_free_bytes", "metadata_written_bytes", "payload_size", "payload_free_bytes",
               "payload_write_pos", "payload_read_pos", "payload_written_count", "payload_read_count",
               "writer_pid", "reader_pid", "r0", "r1", "r2", "r3")


class PeerBug(Exception):
    """Raised by a test when the peer shows a known bug. Tests about peer bugs are marked
    xfail(strict=True, raises=PeerBug): any other failure (for example an assertion about our
    own side) is reported as a real failure, and a fixed peer makes the test fail as XPASS."""


def peer_bug(message):
    raise PeerBug(message)


def _find_interop():
    explicit = os.environ.get("ZEROBUFFER_INTEROP")
    if explicit:
        return pathlib.Path(explicit)
    candidates = []
    for var in ("ZEROBUFFER_BUILD_DIR", "BUILD_DIR"):
        if os.environ.get(var):
            candidates.append(pathlib.Path(os.environ[var]) / "tools" / "zerobuffer-interop")
    candidates.append(REPO / "build" / "tools" / "zerobuffer-interop")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return candidates[0]


INTEROP = _find_interop()


def objects_of(name):
    """Every file a buffer NAME can leave: shm, both semaphores, lock file."""
    return [SHM_DIR / name, SHM_DIR / f"sem.sem-w-{name}", SHM_DIR / f"sem.sem-r-{name}", LOCK_DIR / f"{name}.lock"]


def existing_objects(name):
    return [p for p in objects_of(name) if p.exists()]


def session_leftovers():
    found = []
    for d in (SHM_DIR, LOCK_DIR):
        if d.is_dir():
            found += [d / e for e in os.listdir(d) if SESSION_TAG in e]
    return sorted(found)


def read_oieb(name):
    """The OIEB of /dev/shm/NAME as a dict (None if the segment does not exist)."""
    try:
        with open(SHM_DIR / name, "rb") as f:
            raw = f.read(128)
    except FileNotFoundError:
        return None
    if len(raw) < 128:
        return None
    d = dict(zip(OIEB_FIELDS, struct.unpack(OIEB_FORMAT, raw)))
    d["raw"] = raw
    return d


def wait_until(predicate, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Proc:
    """A peer process: stdout/stderr go to files; `result()` parses its JSON line."""

    def __init__(self, label, argv, workdir, ready, env=None):
        self.label = label
        self.argv = argv
        self.out_path = workdir / f"{label}.out"
        self.err_path = workdir / f"{label}.err"
        self.ready_path = workdir / f"{label}.ready" if ready else None
        if self.ready_path is not None:
            argv = argv + ["--ready-file", str(self.ready_path)]
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.popen = subprocess.Popen(argv, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL, env=env)
        self.pid = self.popen.pid
        self._result = None

    def logs(self):
        out = self.out_path.read_text(errors="replace") if self.out_path.exists() else ""
        err = self.err_path.read_text(errors="replace") if self.err_path.exists() else ""
        return (f"--- {self.label}: {' '.join(map(str, self.argv))}\n--- exit code {self.popen.returncode}\n"
                f"--- stdout:\n{out[-4000:]}\n--- stderr:\n{err[-4000:]}")

    def wait_ready(self, timeout=15):
        assert self.ready_path is not None, f"{self.label} was started without a ready file"
        deadline = time.monotonic() + timeout
        while not self.ready_path.exists():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.label} exited before it was ready\n{self.logs()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"{self.label} not ready after {timeout} s\n{self.logs()}")
            time.sleep(0.01)
        return self

    def running(self):
        return self.popen.poll() is None

    def result(self, timeout=60):
        """Waits for the exit, returns the JSON result with `exit_code` added."""
        if self._result is not None:
            return self._result
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.label} did not finish within {timeout} s\n{self.logs()}")
        self._close_files()
        result = self._parse_json(self.out_path.read_text(errors="replace"))
        if result is None:
            raise AssertionError(f"{self.label} printed no valid JSON result\n{self.logs()}")
        result["exit_code"] = self.popen.returncode
        result["_logs"] = self.logs()
        self._result = result
        return result

    @staticmethod
    def _parse_json(text):
        """The last JSON object on stdout: one line (ours) or pretty-printed (upstream programs)."""
        starts = [i for i in range(len(text)) if text[i] == "{" and (i == 0 or text[i - 1] == "\n")]
        for start in reversed(starts):
            try:
                value = json.loads(text[start:])
            except json.JSONDecodeError:
                try:
                    value = json.loads(text[start:].split("\n", 1)[0])
                except json.JSONDecodeError:
                    continue
            if isinstance(value, dict):
                return value
        return None

    def kill(self):
        """SIGKILL and reap (a zombie would still look alive to kill(pid, 0))."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        self._close_files()

    def terminate(self):
        """SIGTERM: our programs and pypeer.py close gracefully on it."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)

    def _close_files(self):
        for f in (self._out, self._err):
            if not f.closed:
                f.close()


class ZB:
    """Per-test helper: unique names, peers, cleanup."""

    LANGS = ("cpp", "py", "native")

    def __init__(self, request, workdir):
        self.workdir = workdir
        self.test_id = request.node.name
        self.names = []
        self.procs = []
        self._count = 0

    # -- names ------------------------------------------------------------------------------
    def name(self, tag="b"):
        self._count += 1
        n = f"{SESSION_TAG}_{os.getpid()}_{ZB._serial()}_{tag}"
        self.names.append(n)
        return n

    def long_name(self, length):
        """A unique name padded with 'x' to exactly `length` characters."""
        n = self.name("long")
        n = n + "x" * (length - len(n))
        self.names[-1] = n
        return n

    def channel(self, tag="ch"):
        ch = self.name(tag)
        self.names += [ch + "_request", ch + "_response"]
        return ch

    _serial_counter = 0

    @classmethod
    def _serial(cls):
        cls._serial_counter += 1
        return cls._serial_counter

    # -- processes --------------------------------------------------------------------------
    @staticmethod
    def command(lang, sub, args):
        args = [str(a) for a in args]
        if sub == "reader" and "--first-timeout-ms" not in args:
            # A reader starts before its writer; the writer's start-up (a Python interpreter on a
            # busy machine) must not count against the per-read timeout the test is about.
            args += ["--first-timeout-ms", str(FIRST_FRAME_TIMEOUT_MS)]
        if lang == "cpp":
            return [str(INTEROP), sub, *args, "--json-output"]
        if lang in ("py", "native"):
            return [sys.executable, str(PYPEER), sub, *args]
        raise ValueError(lang)

    @staticmethod
    def env(lang):
        """pypeer.py drives zerobuffer-ipc ("py") or zerobuffer_native imported as zerobuffer ("native")."""
        if lang == "native":
            return {**os.environ, "ZEROBUFFER_PYPEER_PACKAGE": "native"}
        if lang == "py":
            return {k: v for k, v in os.environ.items() if k != "ZEROBUFFER_PYPEER_PACKAGE"}
        return None

    def spawn(self, lang, sub, args, label=None, ready=True):
        label = label or f"{lang}-{sub}-{len(self.procs)}"
        proc = Proc(label, self.command(lang, sub, args), self.workdir, ready, env=self.env(lang))
        self.procs.append(proc)
        return proc

    def run(self, lang, sub, args, timeout=60, label=None):
        return self.spawn(lang, sub, args, label=label, ready=False).result(timeout)

    def upstream(self, role, args, label):
        """The upstream Python cross-platform program (python -m zerobuffer.cross_platform)."""
        argv = [sys.executable, "-m", "zerobuffer.cross_platform", role, *map(str, args)]
        proc = Proc(label, argv, self.workdir, ready=False)
        self.procs.append(proc)
        return proc

    # -- cleanup ----------------------------------------------------------------------------
    def cleanup(self):
        for p in self.procs:
            if p.running():
                p.kill()
            else:
                p.popen.wait()
                p._close_files()
        removed = []
        for n in self.names:
            for path in objects_of(n):
                try:
                    path.unlink()
                    removed.append(path.name)
                except FileNotFoundError:
                    pass
        return removed


# ---------------------------------------------------------------------------------------------
# Assertions on peer results
# ---------------------------------------------------------------------------------------------
def check(result, condition, what):
    """assert with the peer's command line and output in the message."""
    if not condition:
        raise AssertionError(f"{what}\n{result.get('_logs', '')}")


def assert_clean(result, **expected):
    """Exit code 0, no errors, no verification errors, and each expected field value."""
    check(result, result["exit_code"] == 0, f"exit code {result['exit_code']}, errors {result.get('errors')}")
    check(result, not result.get("errors"), f"errors: {result.get('errors')}")
    check(result, not result.get("verification_errors"), f"verification errors: {result.get('verification_errors')}")
    for key, want in expected.items():
        check(result, result.get(key) == want, f"{key} = {result.get(key)!r}, expected {want!r}")
    return result


# "py" is zerobuffer-ipc, "native" zerobuffer_native (this repository's Python package), both
# through pypeer.py; "cpp" is tools/zerobuffer-interop.
NATIVE_AVAILABLE = importlib.util.find_spec("zerobuffer_native") is not None
_PAIRS = (("cpp", "py"), ("py", "cpp"), ("native", "py"), ("py", "native"), ("native", "cpp"), ("cpp", "native"))
DIRECTIONS = tuple(p for p in _PAIRS if NATIVE_AVAILABLE or "native" not in p)
DIRECTION_IDS = tuple(f"{w}_writer-{r}_reader" for w, r in DIRECTIONS)
LANGS = ("cpp", "py", "native") if NATIVE_AVAILABLE else ("cpp", "py")
# Second-reader pairs (live reader, intruder).
INTRUDERS = tuple((a, b) for a, b in _PAIRS if NATIVE_AVAILABLE or "native" not in (a, b))
INTRUDER_IDS = tuple(f"{a}_live-{b}_intruder" for a, b in INTRUDERS)
# Writers and readers of this repository (the C++ library).
OURS = ("cpp", "native") if NATIVE_AVAILABLE else ("cpp",)
