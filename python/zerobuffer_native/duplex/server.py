"""ImmutableDuplexServer: answers each request with one response, serving one client after
another."""

import logging
import threading
import weakref
from types import TracebackType
from typing import Any, Callable, List, Optional, Type, Union

from .. import _native
from .._lifecycle import track
from ..error_event_args import ErrorEventArgs
from ..exceptions import WriterDeadException, ZeroBufferException
from .interfaces import IImmutableDuplexServer
from .processing_mode import ProcessingMode

__all__ = ["ImmutableDuplexServer", "RequestBuffer"]

logger = logging.getLogger(__name__)

_DISCONNECTS = ("client_disconnected", "client_died")


class RequestBuffer:
    """What ImmutableDuplexServer.request_reader returns while the server runs: the request
    buffer (CHANNEL_request), which the server creates synchronously in start()."""

    def __init__(self, server: "ImmutableDuplexServer") -> None:
        self._server = server

    @property
    def name(self) -> str:
        return self._server.channel_name + "_request"

    def is_writer_connected(self, timeout_ms: Optional[int] = None) -> bool:  # noqa: ARG002
        return self._server.is_client_connected


class ImmutableDuplexServer(IImmutableDuplexServer):
    """The server of channel CHANNEL: reads requests from CHANNEL_request (which start() creates)
    and writes each response into the client's CHANNEL_response.

    The handler is called as handler(frame, response) on a server thread (several at once in
    ProcessingMode.THREAD_POOL), with the GIL: `frame` is the request (zero-copy, read-only,
    valid during the call) and `response` a ResponseWriter (write_frame, get_frame_buffer +
    commit_frame). Exactly one response frame per request is expected (response_policy
    "exactly_one"): a handler that writes none or raises first gets its client disconnected
    rather than every later answer shifted onto the wrong request. When a client leaves, the
    server reports it to the error handlers and serves the next client (zerobuffer-ipc's server
    stops for good).

    `timeout` (seconds, as zerobuffer-ipc) bounds the wait for a client's response buffer.
    """

    def __init__(self, channel_name: str, config: Optional[Any] = None, timeout: Optional[float] = None, *,
                 poll_interval: Optional[float] = None, response_policy: str = "exactly_one",
                 worker_threads: int = 0, max_in_flight: int = 0) -> None:
        self._error_handlers: List[Callable[[ErrorEventArgs], None]] = []
        self._lock = threading.Lock()
        me = weakref.ref(self)

        def on_error(kind: str, message: str, exception: Optional[BaseException], request: int,
                     client_pid: int) -> None:
            server = me()
            if server is not None:
                server._dispatch_error(kind, message, exception, request, client_pid)

        self._core = _native.DuplexServerCore(channel_name, config, timeout, poll_interval, response_policy,
                                              worker_threads, max_in_flight, on_error)
        track(self)

    # -- errors --------------------------------------------------------------------------------
    def add_error_handler(self, handler: Callable[[ErrorEventArgs], None]) -> None:
        with self._lock:
            if handler not in self._error_handlers:
                self._error_handlers.append(handler)

    def remove_error_handler(self, handler: Callable[[ErrorEventArgs], None]) -> None:
        with self._lock:
            if handler in self._error_handlers:
                self._error_handlers.remove(handler)

    def set_error_handler(self, handler: Optional[Callable[[ErrorEventArgs], None]]) -> None:
        """Replaces every error handler with `handler` (the C++ set_error_handler)."""
        with self._lock:
            self._error_handlers = [] if handler is None else [handler]

    def _dispatch_error(self, kind: str, message: str, exception: Optional[BaseException], request: int,
                        client_pid: int) -> None:
        if exception is None:
            exception = WriterDeadException(message) if kind in _DISCONNECTS else ZeroBufferException(message)
        args = ErrorEventArgs(exception, kind=kind, message=message, request=request, client_pid=client_pid)
        with self._lock:
            handlers = list(self._error_handlers)
        for handler in handlers:
            try:
                handler(args)
            except Exception as e:  # noqa: BLE001 - an error handler's own failure is only logged
                logger.error("error in a duplex error handler: %s", e)

    # -- running -------------------------------------------------------------------------------
    def start(self, handler: Callable[[Any, Any], None], on_init: Optional[Callable[[memoryview], None]] = None,
              mode: Union[ProcessingMode, str] = ProcessingMode.SINGLE_THREAD) -> None:
        """Creates CHANNEL_request (a client can attach as soon as this returns) and serves on a
        background thread. on_init(metadata) runs once per client that wrote metadata, before its
        first request is handled."""
        mode_name = mode.value if isinstance(mode, ProcessingMode) else str(mode)
        self._core.start(handler, on_init, mode_name)

    def start_with_writer(self, handler: Callable[[Any, Any], None],
                          on_init: Optional[Callable[[memoryview], None]] = None) -> None:
        """The C++ start_with_writer: single_thread mode, the handler writes to the response
        Writer directly (frames it writes are on the wire at once; an extra one is only noticed
        afterwards)."""
        self._core.start_with_writer(handler, on_init)

    def stop(self) -> None:
        """Stops serving within about one poll interval (20 ms) plus a running handler's rest,
        and removes CHANNEL_request."""
        self._core.stop()

    @property
    def is_running(self) -> bool:
        return self._core.is_running

    @property
    def request_reader(self) -> Optional[RequestBuffer]:
        return RequestBuffer(self) if self._core.is_running else None

    @property
    def is_client_connected(self) -> bool:
        return self._core.is_client_connected

    @property
    def requests_handled(self) -> int:
        return self._core.requests_handled

    @property
    def clients_served(self) -> int:
        return self._core.clients_served

    @property
    def channel_name(self) -> str:
        return self._core.channel_name

    def __enter__(self) -> "ImmutableDuplexServer":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc_val: Optional[BaseException],
                 exc_tb: Optional[TracebackType]) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ImmutableDuplexServer({self.channel_name!r}, running={self.is_running})"
