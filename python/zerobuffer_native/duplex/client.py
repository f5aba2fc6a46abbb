"""DuplexClient: sends requests and receives their responses (FIFO), reconnecting after a
server restart."""

from types import TracebackType
from typing import Any, Optional, Tuple, Type

from .. import _native
from .._lifecycle import track
from .interfaces import DuplexResponse, IDuplexClient

__all__ = ["DuplexClient"]


class DuplexClient(IDuplexClient):
    """A client of channel CHANNEL: creates CHANNEL_response, writes requests into the server's
    CHANNEL_request, and reads the responses, which answer the requests in order.

    The constructor waits up to `connect_timeout` seconds for a server (a client may start
    first). When the server goes away (stopped, restarted, crashed) and no request is waiting for
    its response, the next send reconnects by itself; with requests pending, the call raises
    (ReaderDeadException / WriterDeadException naming them) and the next send reconnects.
    zerobuffer-ipc's client fails for ever instead.
    """

    def __init__(self, channel_name: str, *, response_config: Optional[Any] = None, connect_timeout: float = 5.0,
                 metadata: Optional[Any] = None) -> None:
        self._core = _native.DuplexClientCore(channel_name, response_config, connect_timeout, metadata)
        track(self)

    def send_request(self, data: Any) -> int:
        """Sends one request (any bytes-like object, copied once); returns its sequence number."""
        return self._core.send_request(data)

    def acquire_request_buffer(self, size: int) -> Tuple[int, memoryview]:
        """Zero-copy: (sequence, writable memoryview of `size` bytes in the server's ring)."""
        return self._core.acquire_request_buffer(size)

    def commit_request(self) -> int:
        """Sends the request filled in place; returns its sequence. LiveViewsError while a numpy
        array or a slice of the buffer still exists (nothing is sent; delete it and commit again)."""
        return self._core.commit_request()

    def abandon_request(self) -> None:
        self._core.abandon_request()

    def receive_response(self, timeout_ms: int) -> DuplexResponse:
        """The next response, waiting up to `timeout_ms` milliseconds (as zerobuffer-ipc; None:
        for ever). An invalid DuplexResponse (is_valid False) on timeout."""
        frame = self._core.receive_response(timeout_ms)
        if frame is None:
            return DuplexResponse(sequence=0, data=None)
        return DuplexResponse(sequence=frame.sequence, _frame=frame)

    def release_response(self, response: DuplexResponse) -> None:
        response.dispose()

    def set_metadata(self, data: Any) -> None:
        """Metadata for the server's on_init; written now and again at every reconnect."""
        self._core.set_metadata(data)

    @property
    def is_server_connected(self) -> bool:
        return self._core.is_server_connected

    @property
    def pending_responses(self) -> int:
        return self._core.pending_responses

    @property
    def reconnects(self) -> int:
        return self._core.reconnects

    @property
    def channel_name(self) -> str:
        return self._core.channel_name

    @property
    def is_open(self) -> bool:
        return self._core.is_open

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> "DuplexClient":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc_val: Optional[BaseException],
                 exc_tb: Optional[TracebackType]) -> None:
        self._core.close(exc_type is None)

    def __repr__(self) -> str:
        return f"DuplexClient({self.channel_name!r}{'' if self.is_open else ', closed'})"
