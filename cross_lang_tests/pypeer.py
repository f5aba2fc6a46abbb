#!/usr/bin/env python3
"""Python peer for the cross-language suite: drives the real `zerobuffer` package from PyPI, or
this repository's `zerobuffer_native` in its place.

Sub-commands and options mirror tools/interop (the C++ `zerobuffer-interop`), and the JSON
result uses the same snake_case keys, so a test can run either language in either role:

    pypeer.py writer NAME [-n N] [-s N | --sizes SPEC] [--pattern P] [metadata options] ...
    pypeer.py reader NAME [-n N] [-s N | --sizes SPEC] [--verify P] [--metadata-size N] ...
    pypeer.py create NAME [--metadata-size N] [--payload-size N] [--hold-ms MS]
    pypeer.py duplex-server CHANNEL [-n N] [--sizes SPEC] [--verify P] ...
    pypeer.py duplex-client CHANNEL [-n N] [--sizes SPEC] [--pattern P] ...

ZEROBUFFER_PYPEER_PACKAGE selects the package: "ipc" (default) imports zerobuffer-ipc;
"native" imports zerobuffer_native *under the name zerobuffer* (its modules are entered in
sys.modules as zerobuffer, zerobuffer.exceptions and zerobuffer.duplex), and the rest of this
file runs unchanged against it: the drop-in claim. The JSON result names the package in "package".

Test data (contract section 10.1) and size schedules are defined in zbdata.py, shared with the
tests. Exit codes: 0 ok, 1 verification errors or errors while streaming, 2 exception, 3 bad
arguments. The JSON object is printed on stdout as one line.
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zbdata  # noqa: E402

PACKAGE = os.environ.get("ZEROBUFFER_PYPEER_PACKAGE", "ipc")
if PACKAGE == "native":
    # The one change a user makes: zerobuffer_native imported as zerobuffer.
    import zerobuffer_native
    import zerobuffer_native.duplex
    import zerobuffer_native.exceptions

    sys.modules["zerobuffer"] = zerobuffer_native
    sys.modules["zerobuffer.exceptions"] = zerobuffer_native.exceptions
    sys.modules["zerobuffer.duplex"] = zerobuffer_native.duplex
elif PACKAGE != "ipc":
    sys.exit(f"pypeer.py: ZEROBUFFER_PYPEER_PACKAGE must be ipc or native, not {PACKAGE!r}")

import zerobuffer  # noqa: E402
from zerobuffer import BufferConfig, Reader, Writer  # noqa: E402
from zerobuffer.exceptions import WriterDeadException, ReaderDeadException  # noqa: E402

EXIT_OK, EXIT_ERRORS, EXIT_EXCEPTION, EXIT_USAGE = 0, 1, 2, 3

_stop = False


def _on_stop(signum, frame):  # noqa: ARG001
    global _stop
    _stop = True


def install_stop_handlers():
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGINT, _on_stop)


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit with 2; our contract says 3
        raise UsageError(message)


def ex_type(e):
    return type(e).__name__


def describe(e):
    return f"{ex_type(e)}: {e}"


def signal_ready(args, name):
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(json.dumps({"buffer_name": name, "pid": os.getpid()}) + "\n")
        os.rename(tmp, args.ready_file)


def emit(result):
    result["package"] = zerobuffer.__name__  # the name of the package actually imported
    print(json.dumps(result), flush=True)


def mib_per_second(nbytes, seconds):
    return nbytes / seconds / (1024 * 1024) if seconds > 0 else 0.0


def metadata_choice(args):
    """(present, bytes, source) from -m / --metadata-file / --metadata-bytes / --empty-metadata."""
    if args.metadata is not None:
        return True, args.metadata.encode("utf-8"), "-m"
    if args.metadata_file is not None:
        with open(args.metadata_file, "rb") as f:
            return True, f.read(), "--metadata-file"
    if args.metadata_bytes is not None:
        return True, zbdata.metadata_bytes(args.metadata_bytes), "--metadata-bytes"
    if args.empty_metadata:
        return True, b"", "--empty-metadata"
    return False, b"", ""


def add_common(p, verb):
    p.add_argument("--json-output", action="store_true", help="accepted for symmetry; output is always JSON")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--ready-file")
    p.add_argument("-m", "--metadata", help=f"metadata {verb}: UTF-8 text")
    p.add_argument("--metadata-file", help=f"metadata {verb}: bytes of a file")
    p.add_argument("--metadata-bytes", type=zbdata.parse_size, help=f"metadata {verb}: N bytes, byte[i] = i mod 256")
    p.add_argument("--empty-metadata", action="store_true", help=f"metadata {verb}: zero-length")


def add_buffer(p):
    p.add_argument("--metadata-size", type=zbdata.parse_size, default=4096)
    p.add_argument("--payload-size", type=zbdata.parse_size, default=256 * 1024 * 1024)


def schedule(args, reader):
    if args.sizes:
        return zbdata.SizeSchedule.parse(args.sizes)
    if args.size == 0:
        if reader:
            return zbdata.SizeSchedule.any_size()
        raise UsageError("--size must be > 0")
    return zbdata.SizeSchedule.fixed(args.size)


def log(args, text):
    if args.verbose:
        print(text, file=sys.stderr, flush=True)


def oieb_snapshot(endpoint):
    """A few OIEB fields from a live Reader/Writer: zerobuffer-ipc's private OIEB view, or
    the public health() of a package without it (diagnostics only)."""
    if not hasattr(endpoint, "_oieb"):
        try:
            h = endpoint.health()
        except Exception:  # closed already
            return None
        return {k: h[k] for k in ("payload_size", "payload_free_bytes", "write_pos", "read_pos", "written_count",
                                  "read_count", "metadata_written_bytes", "writer_pid", "reader_pid")}
    oieb = endpoint._oieb
    if oieb is None:
        return None
    try:
        return {
            "payload_size": oieb.payload_size,
            "payload_free_bytes": oieb.payload_free_bytes,
            "write_pos": oieb.payload_write_pos,
            "read_pos": oieb.payload_read_pos,
            "written_count": oieb.payload_written_count,
            "read_count": oieb.payload_read_count,
            "metadata_written_bytes": oieb.metadata_written_bytes,
            "writer_pid": oieb.writer_pid,
            "reader_pid": oieb.reader_pid,
        }
    except Exception:  # the view may already be released
        return None


# ---------------------------------------------------------------------------------------------
def cmd_writer(argv):
    p = Parser(prog="pypeer.py writer")
    p.add_argument("buffer_name")
    p.add_argument("-n", "--frames", type=int, default=1000, help="0 = until stopped or an error")
    p.add_argument("-s", "--size", type=zbdata.parse_size, default=1024)
    p.add_argument("--sizes")
    p.add_argument("--pattern", default="sequential", choices=["sequential", "zero", "ones"])
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--write-timeout-ms", type=int, default=5000)
    p.add_argument("--wait-for-buffer-ms", type=int, default=0)
    p.add_argument("--linger-ms", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--zero-copy", action="store_true")
    p.add_argument("--expect-reader-death", action="store_true")
    add_common(p, "to write")
    args = p.parse_args(argv)
    sizes = schedule(args, False)
    present, md, _ = metadata_choice(args)
    source = zbdata.PatternSource(args.pattern, sizes.max_size())
    install_stop_handlers()

    errors, exc = [], ""
    written = nbytes = last_seq = 0
    reader_gone = False
    duration = 0.0
    code = EXIT_OK
    health = None
    writer = None
    try:
        deadline = time.monotonic() + args.wait_for_buffer_ms / 1000.0
        while True:
            try:
                writer = Writer(args.buffer_name)
                break
            except zerobuffer.ZeroBufferException as e:
                if time.monotonic() >= deadline or _stop:
                    raise
                log(args, f"waiting for buffer: {e}")
                time.sleep(0.01)
        writer.write_timeout = timedelta(milliseconds=args.write_timeout_ms)
        if present:
            writer.set_metadata(md)
        signal_ready(args, args.buffer_name)
        t0 = time.monotonic()
        k = 0
        try:
            while (args.frames == 0 or k < args.frames) and not _stop:
                n = sizes.size(k)
                data = source.frame(k, n)
                if args.zero_copy:
                    buf = writer.get_frame_buffer(n)
                    buf[:] = data
                    buf.release()
                    writer.commit_frame()
                else:
                    writer.write_frame(data)
                last_seq = k + 1
                written += 1
                nbytes += n
                k += 1
                if args.delay_ms and (args.frames == 0 or k < args.frames):
                    time.sleep(args.delay_ms / 1000.0)
        except ReaderDeadException as e:
            reader_gone = True
            exc = ex_type(e)
            if not args.expect_reader_death:
                errors.append(describe(e))
                code = EXIT_EXCEPTION
        duration = time.monotonic() - t0
        if args.expect_reader_death and not reader_gone:
            errors.append("the reader's death was expected but every write succeeded")
            code = EXIT_ERRORS
        if not reader_gone and args.linger_ms:
            end = time.monotonic() + args.linger_ms / 1000.0
            while time.monotonic() < end and not _stop:
                time.sleep(0.02)
        health = oieb_snapshot(writer)
    except Exception as e:  # noqa: BLE001 - every peer failure is reported, not raised
        exc = ex_type(e)
        errors.append(describe(e))
        code = EXIT_EXCEPTION
    finally:
        if writer is not None:
            if health is None:
                health = oieb_snapshot(writer)
            writer.close()
    emit({
        "operation": "write",
        "buffer_name": args.buffer_name,
        "frames_written": written,
        "frame_size": sizes.size(0),
        "sizes": sizes.describe(),
        "bytes_written": nbytes,
        "metadata_size": len(md) if present else 0,
        "duration_seconds": duration,
        "throughput_mbps": mib_per_second(nbytes, duration),
        "last_sequence": last_seq,
        "reader_gone": reader_gone,
        "exception_type": exc,
        "writer_pid": os.getpid(),
        "health": health,
        "errors": errors,
    })
    return code


# ---------------------------------------------------------------------------------------------
class Verifier:
    def __init__(self, pattern, sizes, check_sequence, metadata, checksum):
        self.source = zbdata.PatternSource(pattern, sizes.max_size()) if pattern != "none" else None
        self.sizes = sizes
        self.check_sequence = check_sequence
        self.md_present, self.md_bytes, self.md_source = metadata
        self.checksum = checksum
        self.errors = 0
        self.shown = 0
        self.metadata_size = 0
        self.metadata_ok = None
        self.metadata_exception = ""
        self.checksums = []

    def check(self, index, frame, errors):
        ok = True

        def problem(what):
            nonlocal ok
            ok = False
            self.shown += 1
            if self.shown <= 20:
                errors.append(f"frame {index} (sequence {frame.sequence}): {what}")

        if self.check_sequence and frame.sequence != index + 1:
            problem(f"sequence {frame.sequence}, expected {index + 1}")
        data = frame.data
        if not self.sizes.any() and len(data) != self.sizes.size(index):
            problem(f"size {len(data)}, expected {self.sizes.size(index)}")
        elif self.source is not None:
            at = self.source.first_mismatch(data, index)
            if at >= 0:
                problem(f"byte {at} is {data[at]:#04x}, expected {self.source.frame(index, len(data))[at]:#04x}")
        if self.checksum and index < 100:
            self.checksums.append({"frame": index, "checksum": hashlib.md5(data).hexdigest()})
        if not ok:
            self.errors += 1

    def check_metadata(self, reader, errors):
        try:
            md = reader.get_metadata()
        except Exception as e:  # noqa: BLE001 - e.g. "Invalid metadata size" for empty metadata
            self.metadata_exception = describe(e)
            md = None
            if self.md_present:
                self.metadata_ok = False
                self.errors += 1
                errors.append(f"metadata: {describe(e)}")
            return
        got = bytes(md) if md is not None else b""
        if md is not None:
            md.release()
        self.metadata_size = len(got)
        if not self.md_present:
            return
        self.metadata_ok = got == self.md_bytes
        if not self.metadata_ok:
            self.errors += 1
            errors.append(f"metadata ({self.md_source}): got {len(got)} bytes, expected {len(self.md_bytes)}")


def cmd_reader(argv):
    p = Parser(prog="pypeer.py reader")
    p.add_argument("buffer_name")
    p.add_argument("-n", "--frames", type=int, default=1000, help="0 = until the writer leaves or a read times out")
    p.add_argument("-s", "--size", type=zbdata.parse_size, default=0)
    p.add_argument("--sizes")
    p.add_argument("--verify", default="none", choices=["none", "sequential", "zero", "ones"])
    p.add_argument("--timeout-ms", type=int, default=5000)
    p.add_argument("--first-timeout-ms", type=int, default=None,
                   help="how long the first read may wait (the writer's start-up); default --timeout-ms")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--checksum", action="store_true")
    p.add_argument("--expect-writer-death", action="store_true")
    p.add_argument("--no-sequence-check", action="store_true")
    p.add_argument("--hold-pairs", action="store_true",
                   help="read two frames before releasing either (triggers the single-slot release bug)")
    add_buffer(p)
    add_common(p, "expected")
    args = p.parse_args(argv)
    sizes = schedule(args, True)
    verifier = Verifier(args.verify, sizes, not args.no_sequence_check, metadata_choice(args), args.checksum)
    timeout = args.timeout_ms / 1000.0
    first_timeout = timeout if args.first_timeout_ms is None else args.first_timeout_ms / 1000.0
    install_stop_handlers()

    errors, exc = [], ""
    nread = nbytes = first_seq = last_seq = 0
    writer_gone = False
    duration = 0.0
    code = EXIT_OK
    health = None
    reader = None
    t0 = time.monotonic()
    try:
        reader = Reader(args.buffer_name, BufferConfig(args.metadata_size, args.payload_size))
        signal_ready(args, args.buffer_name)
        held = []
        try:
            while (args.frames == 0 or nread < args.frames) and not _stop:
                frame = reader.read_frame(timeout=first_timeout if nread == 0 else timeout)
                if frame is None:
                    if args.frames == 0 and not args.expect_writer_death:
                        break
                    errors.append(f"no frame within {args.timeout_ms} ms after {nread} frames")
                    break
                if nread == 0:
                    t0 = time.monotonic()
                    first_seq = frame.sequence
                    verifier.check_metadata(reader, errors)
                verifier.check(nread, frame, errors)
                last_seq = frame.sequence
                nread += 1
                nbytes += frame.size
                if args.delay_ms:
                    time.sleep(args.delay_ms / 1000.0)
                if args.hold_pairs:
                    held.append(frame)
                    if len(held) == 2:
                        for f in held:
                            f.dispose()
                        held = []
                else:
                    frame.dispose()
            for f in held:
                f.dispose()
            duration = time.monotonic() - t0 if nread else 0.0
            if args.expect_writer_death and not errors and not _stop:
                extra = reader.read_frame(timeout=timeout)
                if extra is not None:
                    errors.append(f"expected the writer to be gone, got another frame (sequence {extra.sequence})")
                    extra.dispose()
                else:
                    errors.append(f"the writer's exit was not reported within {args.timeout_ms} ms")
        except WriterDeadException as e:
            duration = time.monotonic() - t0 if nread else 0.0
            writer_gone = True
            if args.frames != 0 and nread < args.frames:
                exc = ex_type(e)
                errors.append(f"after {nread} of {args.frames} frames: {describe(e)}")
        except Exception as e:  # noqa: BLE001 - SequenceError, boundary errors, ValueError ...
            duration = time.monotonic() - t0 if nread else 0.0
            exc = ex_type(e)
            errors.append(f"after {nread} frames: {describe(e)}")
        health = oieb_snapshot(reader)
    except Exception as e:  # noqa: BLE001
        exc = ex_type(e)
        errors.append(describe(e))
        code = EXIT_EXCEPTION
    finally:
        if reader is not None:
            reader.close()
    if code == EXIT_OK and (verifier.errors or errors):
        code = EXIT_ERRORS
    emit({
        "operation": "read",
        "buffer_name": args.buffer_name,
        "frames_read": nread,
        "frame_size": sizes.size(0),
        "sizes": sizes.describe(),
        "bytes_read": nbytes,
        "metadata_size": verifier.metadata_size,
        "metadata_ok": verifier.metadata_ok,
        "metadata_exception": verifier.metadata_exception,
        "duration_seconds": duration,
        "throughput_mbps": mib_per_second(nbytes, duration),
        "verification_errors": verifier.errors,
        "checksums": verifier.checksums,
        "first_sequence": first_seq,
        "last_sequence": last_seq,
        "writer_gone": writer_gone,
        "exception_type": exc,
        "reader_pid": os.getpid(),
        "health": health,
        "errors": errors,
    })
    return code


# ---------------------------------------------------------------------------------------------
def cmd_create(argv):
    p = Parser(prog="pypeer.py create")
    p.add_argument("buffer_name")
    p.add_argument("--hold-ms", type=int, default=0, help="0 = until SIGTERM/SIGINT")
    add_buffer(p)
    p.add_argument("--json-output", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--ready-file")
    args = p.parse_args(argv)
    install_stop_handlers()
    errors, exc, code = [], "", EXIT_OK
    health = None
    reader = None
    try:
        reader = Reader(args.buffer_name, BufferConfig(args.metadata_size, args.payload_size))
        signal_ready(args, args.buffer_name)
        end = time.monotonic() + args.hold_ms / 1000.0
        while not _stop and (args.hold_ms == 0 or time.monotonic() < end):
            time.sleep(0.02)
        health = oieb_snapshot(reader)
    except Exception as e:  # noqa: BLE001
        exc = ex_type(e)
        errors.append(describe(e))
        code = EXIT_EXCEPTION
    finally:
        if reader is not None:
            reader.close()
    emit({"operation": "create", "buffer_name": args.buffer_name, "reader_pid": os.getpid(),
          "exception_type": exc, "health": health, "errors": errors})
    return code


# ---------------------------------------------------------------------------------------------
def cmd_duplex_server(argv):
    from zerobuffer.duplex import DuplexChannelFactory

    p = Parser(prog="pypeer.py duplex-server")
    p.add_argument("channel")
    p.add_argument("-n", "--requests", type=int, default=0)
    p.add_argument("-s", "--size", type=zbdata.parse_size, default=0)
    p.add_argument("--sizes")
    p.add_argument("--verify", default="none", choices=["none", "sequential", "zero", "ones"])
    p.add_argument("--max-ms", type=int, default=60000)
    p.add_argument("--read-timeout-ms", type=int, default=2000,
                   help="the server's read timeout; also bounds its wait for the client's response buffer")
    add_buffer(p)
    add_common(p, "expected from the client (checked in on_init)")
    args = p.parse_args(argv)
    sizes = schedule(args, True)
    source = zbdata.PatternSource(args.verify, sizes.max_size()) if args.verify != "none" else None
    md_present, md_bytes, md_source = metadata_choice(args)
    install_stop_handlers()

    state = {"handled": 0, "verification_errors": 0, "init_calls": 0, "init_metadata_size": 0, "disconnects": 0}
    errors, exc, code = [], "", EXIT_OK

    def handler(frame, writer):
        k = frame.sequence - 1  # the request's index in this client connection
        data = frame.data
        if not sizes.any() and len(data) != sizes.size(k):
            state["verification_errors"] += 1
            errors.append(f"request {k}: size {len(data)}, expected {sizes.size(k)}")
        elif source is not None and source.first_mismatch(data, k) >= 0:
            state["verification_errors"] += 1
            errors.append(f"request {k}: content differs from the {args.verify} pattern")
        writer.write_frame(data)
        state["handled"] += 1

    def on_init(md):
        state["init_calls"] += 1
        got = bytes(md)
        state["init_metadata_size"] = len(got)
        if md_present and got != md_bytes:
            state["verification_errors"] += 1
            errors.append(f"on_init: metadata of {len(got)} bytes, expected {len(md_bytes)} ({md_source})")

    def on_error(event):
        e = event.exception
        if isinstance(e, (WriterDeadException, ReaderDeadException)):
            state["disconnects"] += 1
        else:
            errors.append(f"server error: {describe(e)}")

    server = None
    stopped_by_itself = False
    try:
        server = DuplexChannelFactory().create_immutable_server(
            args.channel, BufferConfig(args.metadata_size, args.payload_size), timeout=args.read_timeout_ms / 1000.0)
        server.add_error_handler(on_error)
        server.start(handler, on_init)
        deadline = time.monotonic() + args.max_ms / 1000.0
        # start() creates the request buffer asynchronously (contract section 7.2): wait for it.
        while server.request_reader is None and server.is_running and time.monotonic() < deadline:
            time.sleep(0.005)
        if server.request_reader is None:
            raise RuntimeError("the request buffer was never created")
        signal_ready(args, args.channel)
        timed_out = False
        while not _stop:
            if not server.is_running:
                stopped_by_itself = True
                break
            if args.requests and state["handled"] >= args.requests and state["disconnects"]:
                break  # a server that goes on serving the next client is done here
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.02)
        if timed_out:
            errors.append(f"gave up after {args.max_ms} ms ({state['handled']} requests handled)")
        if args.requests and state["handled"] < args.requests:
            errors.append(f"handled {state['handled']} of {args.requests} requests")
    except Exception as e:  # noqa: BLE001
        exc = ex_type(e)
        errors.append(describe(e))
        code = EXIT_EXCEPTION
    finally:
        if server is not None:
            server.stop()
    if code == EXIT_OK and (errors or state["verification_errors"]):
        code = EXIT_ERRORS
    emit({"operation": "duplex-server", "channel": args.channel, "requests_handled": state["handled"],
          "client_disconnects": state["disconnects"], "stopped_by_itself": stopped_by_itself,
          "init_calls": state["init_calls"], "init_metadata_size": state["init_metadata_size"],
          "verification_errors": state["verification_errors"], "exception_type": exc,
          "server_pid": os.getpid(), "errors": errors})
    return code


def cmd_duplex_client(argv):
    from zerobuffer.duplex import DuplexChannelFactory

    p = Parser(prog="pypeer.py duplex-client")
    p.add_argument("channel")
    p.add_argument("-n", "--requests", type=int, default=1000)
    p.add_argument("-s", "--size", type=zbdata.parse_size, default=1024)
    p.add_argument("--sizes")
    p.add_argument("--pattern", default="sequential", choices=["sequential", "zero", "ones"])
    p.add_argument("--timeout-ms", type=int, default=5000)
    p.add_argument("--connect-timeout-ms", type=int, default=5000)
    p.add_argument("--json-output", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--ready-file")
    args = p.parse_args(argv)
    sizes = schedule(args, False)
    source = zbdata.PatternSource(args.pattern, sizes.max_size())
    install_stop_handlers()
    errors, exc, code = [], "", EXIT_OK
    sent = received = verification_errors = 0
    duration = 0.0
    client = None
    try:
        deadline = time.monotonic() + args.connect_timeout_ms / 1000.0
        while True:
            try:
                client = DuplexChannelFactory().create_client(args.channel)
                break
            except zerobuffer.ZeroBufferException as e:
                if time.monotonic() >= deadline or _stop:
                    raise
                log(args, f"waiting for the server: {e}")
                time.sleep(0.02)
        signal_ready(args, args.channel)
        t0 = time.monotonic()
        for k in range(args.requests):
            if _stop:
                break
            data = source.frame(k, sizes.size(k))
            client.send_request(data)
            sent += 1
            response = client.receive_response(args.timeout_ms)
            if not response.is_valid:
                errors.append(f"no response to request {k} within {args.timeout_ms} ms")
                break
            with response:
                got = response.data
                if len(got) != len(data):
                    verification_errors += 1
                    errors.append(f"response {k}: size {len(got)}, expected {len(data)}")
                elif bytes(got) != data:
                    verification_errors += 1
                    errors.append(f"response {k}: content differs from request {k}")
            received += 1
        duration = time.monotonic() - t0
    except Exception as e:  # noqa: BLE001
        exc = ex_type(e)
        errors.append(describe(e))
        code = EXIT_EXCEPTION
    finally:
        if client is not None:
            client.close()
    if code == EXIT_OK and (errors or verification_errors or received < args.requests):
        code = EXIT_ERRORS
    emit({"operation": "duplex-client", "channel": args.channel, "requests_sent": sent,
          "responses_received": received, "verification_errors": verification_errors,
          "duration_seconds": duration,
          "round_trips_per_second": received / duration if duration > 0 else 0.0,
          "exception_type": exc, "client_pid": os.getpid(), "errors": errors})
    return code


COMMANDS = {
    "writer": cmd_writer,
    "reader": cmd_reader,
    "create": cmd_create,
    "duplex-server": cmd_duplex_server,
    "duplex-client": cmd_duplex_client,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print("usage: pypeer.py {" + ",".join(COMMANDS) + "} ...", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[argv[1]](argv[2:])
    except UsageError as e:
        print(f"pypeer.py {argv[1]}: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv))
