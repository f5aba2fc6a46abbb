"""pypeer.py duplex-server and duplex-client: an echo server that checks the requests, and a
client that checks every response against its request."""

import os
import time

import zbdata
import zerobuffer
from zerobuffer import BufferConfig
from zerobuffer.exceptions import ReaderDeadException, WriterDeadException
from pypeer_common import (EXIT_ERRORS, EXIT_OK, add_buffer, add_common, add_output, describe, emit, failed,
                           install_stop_handlers, log, metadata_choice, Parser, schedule, signal_ready, stopped)


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
        while not stopped():
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
        exc, code = failed(e, errors)
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
    add_output(p)
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
                if time.monotonic() >= deadline or stopped():
                    raise
                log(args, f"waiting for the server: {e}")
                time.sleep(0.02)
        signal_ready(args, args.channel)
        t0 = time.monotonic()
        for k in range(args.requests):
            if stopped():
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
        exc, code = failed(e, errors)
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
