"""Helpers of the `zerobuffer` command suite: run the real command, spawn real peers (our
zerobuffer-interop and the Python package zerobuffer-ipc through cross_lang_tests/pypeer.py),
make leftovers by hand, and remove everything a test created.

Peers and their process handling come from the cross-language suite (cross_lang_tests/xl.py).

Ordering rule for tests: a Python Reader, when it starts, deletes every stale lock file in
/tmp/zerobuffer and the buffers behind them whose PIDs are all dead (zerobuffer-ipc's
_cleanup_stale_resources). A test therefore starts its Python readers before it makes any stale
buffer it wants to find again.
"""

import json
import os
import pathlib
import secrets
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "cross_lang_tests"))

from xl import INTEROP, PYPEER, Proc, objects_of, pid_alive, read_oieb, wait_until  # noqa: E402,F401


def _find_cli():
    explicit = os.environ.get("ZEROBUFFER_CLI")
    if explicit:
        return pathlib.Path(explicit)
    build = pathlib.Path(os.environ.get("ZEROBUFFER_BUILD_DIR") or os.environ.get("BUILD_DIR") or REPO / "build")
    return build / "tools" / "zerobuffer"


CLI = _find_cli()
TAG = "zbcli" + secrets.token_hex(3)  # every object this session creates carries it
SHM = pathlib.Path("/dev/shm")
LOCK_DIR = pathlib.Path("/tmp/zerobuffer")
OIEB_FORMAT = "<I4B11Q4Q"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def zb(*args, env=None, timeout=60):
    """Runs the command; returns the CompletedProcess (text output)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=full_env, stdin=subprocess.DEVNULL)


def zb_json(*args, expect=EXIT_OK, env=None):
    """Runs the command with --json, checks the exit code and returns the parsed object."""
    r = zb(*args, "--json", env=env)
    assert r.returncode == expect, f"exit {r.returncode}, expected {expect}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return json.loads(r.stdout)


def listed(listing, name):
    """The entry for NAME in an `ls --json` result (buffers or leftovers), or None."""
    for entry in listing["buffers"] + listing["leftovers"]:
        if entry["name"] == name:
            return entry
    return None


def paths_of(name):
    return [str(p) for p in objects_of(name)]


def existing(name):
    return sorted(str(p) for p in objects_of(name) if os.path.lexists(p))


def oieb_bytes(metadata_size, payload_size, *, oieb_size=128, major=1, free=None, write_pos=0, read_pos=0,
               written=0, read=0, writer_pid=0, reader_pid=0, metadata_written=0):
    return struct.pack(OIEB_FORMAT, oieb_size, major, 0, 0, 0, metadata_size, metadata_size - metadata_written,
                       metadata_written, payload_size, payload_size if free is None else free, write_pos, read_pos,
                       written, read, writer_pid, reader_pid, 0, 0, 0, 0)


def dead_pid():
    """The PID of a process that has exited and been reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    assert not pid_alive(p.pid)
    return p.pid


class Env:
    """Per-test helper: unique names, peers, hand-made objects, and removal of all of it."""

    _serial = 0

    def __init__(self, workdir):
        self.workdir = workdir
        self.names = []
        self.paths = []
        self.procs = []

    # -- names ---------------------------------------------------------------------------------
    def name(self, what="b"):
        Env._serial += 1
        n = f"{TAG}_{os.getpid()}_{Env._serial}_{what}"
        self.names.append(n)
        return n

    def topic_name(self, topic, ident):
        n = f"{TAG}{topic}@{ident}"
        self.names.append(n)
        return n

    def adopt_path(self, path):
        self.paths.append(pathlib.Path(path))
        return pathlib.Path(path)

    # -- peers -----------------------------------------------------------------------------------
    def _spawn(self, label, argv, ready=True):
        proc = Proc(f"{label}-{len(self.procs)}", [str(a) for a in argv], self.workdir, ready)
        self.procs.append(proc)
        if ready:
            proc.wait_ready(30)
        return proc

    def cpp_reader(self, name, payload="64K", metadata="1K", reading=False):
        """Our Reader: holds the buffer (`create`), or reads every frame (`reader -n 0`)."""
        if reading:
            argv = [INTEROP, "reader", name, "-n", "0", "--timeout-ms", "60000", "--payload-size", payload,
                    "--metadata-size", metadata, "--json-output"]
        else:
            argv = [INTEROP, "create", name, "--payload-size", payload, "--metadata-size", metadata, "--json-output"]
        return self._spawn("cpp-reader", argv)

    def py_reader(self, name, payload="64K", metadata="1K", reading=False):
        """The Python package's Reader (zerobuffer-ipc), through pypeer.py."""
        if reading:
            argv = [sys.executable, PYPEER, "reader", name, "-n", "0", "--timeout-ms", "60000", "--payload-size",
                    payload, "--metadata-size", metadata]
        else:
            argv = [sys.executable, PYPEER, "create", name, "--payload-size", payload, "--metadata-size", metadata]
        return self._spawn("py-reader", argv)

    def cpp_writer(self, name, frames, size=100, metadata=None, delay_ms=0):
        argv = [INTEROP, "writer", name, "-n", frames, "-s", size, "--linger-ms", "120000", "--json-output"]
        if metadata is not None:
            argv += ["-m", metadata]
        if delay_ms:
            argv += ["--delay-ms", delay_ms]
        return self._spawn("cpp-writer", argv)

    def py_writer(self, name, frames, size=100, metadata=None, delay_ms=0):
        argv = [sys.executable, PYPEER, "writer", name, "-n", frames, "-s", size, "--linger-ms", "120000"]
        if metadata is not None:
            argv += ["-m", metadata]
        if delay_ms:
            argv += ["--delay-ms", delay_ms]
        return self._spawn("py-writer", argv)

    def reader(self, lang, name, **kw):
        return (self.cpp_reader if lang == "cpp" else self.py_reader)(name, **kw)

    def writer(self, lang, name, frames, **kw):
        return (self.cpp_writer if lang == "cpp" else self.py_writer)(name, frames, **kw)

    def helper(self, code):
        """A Python process running `code`; it prints 'ready' once set up, then sleeps."""
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        self.procs.append(_Plain(proc))
        assert proc.stdout.readline().strip() == "ready", "helper process did not start"
        return proc

    @staticmethod
    def wait_written(name, frames, read=None, timeout=30):
        def done():
            o = read_oieb(name)
            return o and o["payload_written_count"] >= frames and (read is None or o["payload_read_count"] >= read)
        wait_until(done, timeout, f"{frames} frames written into {name}")

    # -- hand-made objects -------------------------------------------------------------------------
    def make_segment(self, name, data):
        path = SHM / name
        with open(path, "xb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        return path

    def make_v1_segment(self, name, metadata_size=64, payload_size=1024, **fields):
        return self.make_segment(name, oieb_bytes(metadata_size, payload_size, **fields)
                                 + bytes(metadata_size + payload_size))

    def make_semaphores(self, name):
        import posix_ipc
        for prefix in ("sem-w-", "sem-r-"):
            posix_ipc.Semaphore(f"/{prefix}{name}", posix_ipc.O_CREX, mode=0o600, initial_value=0).close()

    def make_lock_file(self, name):
        LOCK_DIR.mkdir(mode=0o1777, exist_ok=True)
        path = LOCK_DIR / f"{name}.lock"
        path.touch(mode=0o600, exist_ok=False)
        return path

    # -- cleanup -----------------------------------------------------------------------------------
    def cleanup(self):
        for p in self.procs:
            p.kill()
        for n in self.names:
            for path in objects_of(n):
                try:
                    path.unlink()
                except FileNotFoundError:
                    pass
        for path in self.paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass


class _Plain:
    """A helper subprocess.Popen with the kill() of xl.Proc."""

    def __init__(self, popen):
        self.popen = popen
        self.pid = popen.pid

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        if self.popen.stdout:
            self.popen.stdout.close()


def session_leftovers():
    found = []
    for d in (SHM, LOCK_DIR):
        if d.is_dir():
            found += [d / e for e in os.listdir(d) if TAG in e]
    return sorted(found)

