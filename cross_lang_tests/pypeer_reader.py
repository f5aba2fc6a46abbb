"""pypeer.py reader and create: create a buffer as its reader, then read and verify frames
(reader) or only hold it (create)."""

import hashlib
import os
import time

import zbdata
from zerobuffer import BufferConfig, Reader
from zerobuffer.exceptions import WriterDeadException
from pypeer_common import (EXIT_ERRORS, EXIT_OK, add_buffer, add_common, add_output, describe, emit, ex_type,
                           failed, install_stop_handlers, metadata_choice, mib_per_second, oieb_snapshot, Parser,
                           schedule, signal_ready, stopped)


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
            while (args.frames == 0 or nread < args.frames) and not stopped():
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
            if args.expect_writer_death and not errors and not stopped():
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
        exc, code = failed(e, errors)
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
    add_output(p)
    args = p.parse_args(argv)
    install_stop_handlers()
    errors, exc, code = [], "", EXIT_OK
    health = None
    reader = None
    try:
        reader = Reader(args.buffer_name, BufferConfig(args.metadata_size, args.payload_size))
        signal_ready(args, args.buffer_name)
        end = time.monotonic() + args.hold_ms / 1000.0
        while not stopped() and (args.hold_ms == 0 or time.monotonic() < end):
            time.sleep(0.02)
        health = oieb_snapshot(reader)
    except Exception as e:  # noqa: BLE001
        exc, code = failed(e, errors)
    finally:
        if reader is not None:
            reader.close()
    emit({"operation": "create", "buffer_name": args.buffer_name, "reader_pid": os.getpid(),
          "exception_type": exc, "health": health, "errors": errors})
    return code
