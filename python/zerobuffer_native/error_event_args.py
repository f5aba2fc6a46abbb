"""ErrorEventArgs: what a duplex server's error handlers receive."""

from typing import Optional

__all__ = ["ErrorEventArgs"]


class ErrorEventArgs:
    """An error or connection event of a duplex server.

    `exception` is the exception (the handler's own, or the library's: WriterDeadException when
    a client left), as with zerobuffer-ipc. This library adds `kind` (the C++ DuplexErrorKind:
    handler_failed, init_failed, response_missing, too_many_responses, client_disconnected,
    client_died, response_attach_failed, response_write_failed, protocol_error, fatal),
    `message`, `request` (1-based request number in the client's connection, 0 if none) and
    `client_pid` (0 if unknown)."""

    def __init__(self, exception: BaseException, kind: Optional[str] = None, message: Optional[str] = None,
                 request: int = 0, client_pid: int = 0) -> None:
        if not isinstance(exception, BaseException):
            raise TypeError("exception must be an Exception instance")
        self._exception = exception
        self.kind = kind
        self.message = message if message is not None else str(exception)
        self.request = request
        self.client_pid = client_pid

    @property
    def exception(self) -> BaseException:
        return self._exception

    def __str__(self) -> str:
        return f"ErrorEventArgs({type(self._exception).__name__}: {self._exception})"

    def __repr__(self) -> str:
        return f"ErrorEventArgs(kind={self.kind!r}, exception={self._exception!r})"
