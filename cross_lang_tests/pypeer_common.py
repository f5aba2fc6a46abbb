"""What the sub-commands of pypeer.py share: exit codes, stop handling, argument helpers, the
ready file and the JSON result. Imported by pypeer.py after its package switch, so that
`zerobuffer` here is whichever package pypeer.py selected."""

import argparse
import json
import os
import signal
import sys

import zbdata
import zerobuffer

EXIT_OK, EXIT_ERRORS, EXIT_EXCEPTION, EXIT_USAGE = 0, 1, 2, 3

_stop = False


def _on_stop(signum, frame):  # noqa: ARG001
    global _stop
    _stop = True


def install_stop_handlers():
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGINT, _on_stop)


def stopped():
    """True once SIGTERM or SIGINT arrived (after install_stop_handlers())."""
    return _stop



class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit with 2; our contract says 3
        raise UsageError(message)


def ex_type(e):
    return type(e).__name__


def describe(e):
    return f"{ex_type(e)}: {e}"


def failed(e, errors):
    """For the exception `e` that ended a command: records it in `errors` and returns its type
    name and the exit code (EXIT_EXCEPTION)."""
    errors.append(describe(e))
    return ex_type(e), EXIT_EXCEPTION


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


def add_output(p):
    """--json-output, -v/--verbose, --ready-file: the options every sub-command has."""
    p.add_argument("--json-output", action="store_true", help="accepted for symmetry; output is always JSON")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--ready-file")


def add_common(p, verb):
    add_output(p)
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
