"""pypeer.py writer: attach to a buffer created by a reader of any language and write frames."""

import os
import time
from datetime import timedelta

import zbdata
import zerobuffer
from zerobuffer import Writer
from zerobuffer.exceptions import ReaderDeadException
from pypeer_common import (EXIT_ERRORS, EXIT_EXCEPTION, EXIT_OK, add_common, describe, emit, ex_type, failed,
                           install_stop_handlers, log, metadata_choice, mib_per_second, oieb_snapshot, Parser,
                           schedule, signal_ready, stopped)


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
                if time.monotonic() >= deadline or stopped():
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
            while (args.frames == 0 or k < args.frames) and not stopped():
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
            while time.monotonic() < end and not stopped():
                time.sleep(0.02)
        health = oieb_snapshot(writer)
    except Exception as e:  # noqa: BLE001 - every peer failure is reported, not raised
        exc, code = failed(e, errors)
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
