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

The sub-commands are in pypeer_writer.py (writer), pypeer_reader.py (reader, create) and
pypeer_duplex.py (duplex-server, duplex-client); what they share is in pypeer_common.py. They
are imported after the package switch below, so they run against the package it selected. Test
data (contract section 10.1) and size schedules are defined in zbdata.py, shared with the tests.
Exit codes: 0 ok, 1 verification errors or errors while streaming, 2 exception, 3 bad arguments.
The JSON object is printed on stdout as one line.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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

import zerobuffer  # noqa: E402, F401  (the package selected above, for the modules below)
from pypeer_common import EXIT_USAGE, UsageError  # noqa: E402
from pypeer_duplex import cmd_duplex_client, cmd_duplex_server  # noqa: E402
from pypeer_reader import cmd_create, cmd_reader  # noqa: E402
from pypeer_writer import cmd_writer  # noqa: E402

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
