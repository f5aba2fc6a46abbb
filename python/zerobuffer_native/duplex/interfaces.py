"""Duplex interfaces (as zerobuffer-ipc has them) and DuplexResponse."""

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Callable, Optional, Tuple, Type

from .._native import Frame
from ..error_event_args import ErrorEventArgs
from .processing_mode import ProcessingMode

__all__ = ["DuplexResponse", "IDuplexClient", "IDuplexServer", "IImmutableDuplexServer", "IMutableDuplexServer",
           "IDuplexChannelFactory"]


class DuplexResponse:
    """A response: its sequence number and its frame (zero-copy, read-only).

    `data` is a memoryview of the frame; it is released, with the frame, by dispose() or at the
    end of a `with` block. is_valid is False for the empty response receive_response returns on
    timeout."""

    __slots__ = ("sequence", "_frame", "_data")

    def __init__(self, sequence: int, data: Optional[Any] = None, _frame: Optional[Frame] = None) -> None:
        self.sequence = sequence
        self._frame = _frame
        self._data = data

    @property
    def frame(self) -> Optional[Frame]:
        return self._frame

    @property
    def data(self) -> Optional[memoryview]:
        if self._frame is not None:
            return self._frame.data
        return None if self._data is None else memoryview(self._data)

    @property
    def is_valid(self) -> bool:
        if self._frame is not None:
            return self._frame.is_valid
        return self._data is not None and len(self._data) > 0

    def as_numpy(self, dtype: Any = None, shape: Any = None, offset: int = 0) -> Any:
        if self._frame is None:
            raise ValueError("an empty response has no data")
        return self._frame.as_numpy(dtype, shape, offset)

    def to_bytes(self) -> bytes:
        data = self.data
        return b"" if data is None else bytes(data)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def __len__(self) -> int:
        if self._frame is not None:
            return len(self._frame)
        return 0 if self._data is None else len(self._data)

    def dispose(self) -> None:
        """Releases the frame (LiveViewsError while a numpy array or a slice still points into it)."""
        if self._frame is not None:
            self._frame.release()

    release = dispose

    def __enter__(self) -> "DuplexResponse":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc_val: Optional[BaseException],
                 exc_tb: Optional[TracebackType]) -> None:
        if self._frame is not None:
            self._frame.__exit__(exc_type, exc_val, exc_tb)

    def __repr__(self) -> str:
        return f"DuplexResponse(sequence={self.sequence}, size={len(self)}, valid={self.is_valid})"


class IDuplexClient(ABC):
    @abstractmethod
    def send_request(self, data: Any) -> int: ...

    @abstractmethod
    def acquire_request_buffer(self, size: int) -> Tuple[int, memoryview]: ...

    @abstractmethod
    def commit_request(self) -> Any: ...

    @abstractmethod
    def receive_response(self, timeout_ms: int) -> DuplexResponse: ...

    @property
    @abstractmethod
    def is_server_connected(self) -> bool: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def __enter__(self) -> "IDuplexClient": ...

    @abstractmethod
    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None: ...


class IDuplexServer(ABC):
    @abstractmethod
    def stop(self) -> None: ...

    @property
    @abstractmethod
    def is_running(self) -> bool: ...

    @abstractmethod
    def add_error_handler(self, handler: Callable[[ErrorEventArgs], None]) -> None: ...

    @abstractmethod
    def remove_error_handler(self, handler: Callable[[ErrorEventArgs], None]) -> None: ...


class IImmutableDuplexServer(IDuplexServer):
    @property
    @abstractmethod
    def request_reader(self) -> Optional[Any]: ...

    @abstractmethod
    def start(self, handler: Callable[[Frame, Any], None], on_init: Optional[Callable[[memoryview], None]] = None,
              mode: ProcessingMode = ProcessingMode.SINGLE_THREAD) -> None: ...


class IMutableDuplexServer(IDuplexServer):
    @abstractmethod
    def start(self, handler: Callable[[Frame], None], mode: ProcessingMode = ProcessingMode.SINGLE_THREAD) -> None: ...


class IDuplexChannelFactory(ABC):
    @abstractmethod
    def create_immutable_server(self, channel_name: str, config: Any, timeout: Optional[float] = None
                                ) -> IImmutableDuplexServer: ...

    @abstractmethod
    def create_mutable_server(self, channel_name: str, config: Any) -> IMutableDuplexServer: ...

    @abstractmethod
    def create_client(self, channel_name: str) -> IDuplexClient: ...
