"""zerobuffer_native: zero-copy shared-memory IPC (ZeroBuffer v1) over the zerobuffer C++ library.

A drop-in for the pure-Python zerobuffer-ipc package: the same modules (zerobuffer_native,
.exceptions, .duplex), classes, functions, argument names, defaults and units, so that

    import zerobuffer_native as zerobuffer

is the only change. What differs (read-only and revocable frame views, numpy zero-copy, GIL
released while waiting, peer death seen within 50 ms, no leaked semaphores, a reconnecting
duplex client, the library's exception messages) is described in docs/python.md.
"""

from . import _native
from . import exceptions

_native._register_exceptions(exceptions)  # before anything can raise

from ._native import Frame, FrameBuffer, ResponseWriter  # noqa: E402
from .reader import Reader  # noqa: E402
from .writer import Writer  # noqa: E402
from .types import BufferConfig, OIEB, FrameHeader  # noqa: E402
from .exceptions import (  # noqa: E402
    ZeroBufferException,
    WriterDeadException,
    ReaderDeadException,
    WriterAlreadyConnectedException,
    ReaderAlreadyConnectedException,
    BufferFullException,
    FrameTooLargeException,
    SequenceError,
    InvalidFrameSizeException,
    MetadataAlreadyWrittenException,
    BufferNotFoundException,
    MetadataTooLargeException,
    InvalidNameException,
    InvalidArgumentException,
    CorruptBufferException,
    ObjectClosedException,
    UsageException,
    NameBlockedException,
    ZeroBufferOSError,
    DuplexTimeoutException,
    LiveViewsError,
)
from .error_event_args import ErrorEventArgs  # noqa: E402
from . import duplex  # noqa: E402
from .duplex import (  # noqa: E402
    DuplexChannelFactory,
    DuplexClient,
    ImmutableDuplexServer,
    IDuplexClient,
    IDuplexServer,
    IImmutableDuplexServer,
    IMutableDuplexServer,
    IDuplexChannelFactory,
    DuplexResponse,
    ProcessingMode,
)

# Topics (Publisher / Subscriber) will be exported here once the C++ API has landed: see topics.py.

__version__ = "1.0.0"
LIBRARY_VERSION = ".".join(map(str, _native.LIBRARY_VERSION))

__all__ = [
    "Reader",
    "Writer",
    "BufferConfig",
    "Frame",
    "FrameBuffer",
    "OIEB",
    "FrameHeader",
    "ZeroBufferException",
    "WriterDeadException",
    "ReaderDeadException",
    "WriterAlreadyConnectedException",
    "ReaderAlreadyConnectedException",
    "BufferFullException",
    "FrameTooLargeException",
    "SequenceError",
    "InvalidFrameSizeException",
    "MetadataAlreadyWrittenException",
    "BufferNotFoundException",
    "MetadataTooLargeException",
    "InvalidNameException",
    "InvalidArgumentException",
    "CorruptBufferException",
    "ObjectClosedException",
    "UsageException",
    "NameBlockedException",
    "ZeroBufferOSError",
    "DuplexTimeoutException",
    "LiveViewsError",
    "ErrorEventArgs",
    "DuplexChannelFactory",
    "DuplexClient",
    "ImmutableDuplexServer",
    "IDuplexClient",
    "IDuplexServer",
    "IImmutableDuplexServer",
    "IMutableDuplexServer",
    "IDuplexChannelFactory",
    "DuplexResponse",
    "ProcessingMode",
    "ResponseWriter",
]
