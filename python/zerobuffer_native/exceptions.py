"""Exceptions of zerobuffer_native.

The names of zerobuffer-ipc 1.3.0 are kept, with the same base class (ZeroBufferException), so
that `except` clauses written for the peer keep working. Each C++ exception type of the library
becomes the class of the same meaning, carrying the C++ message:

==========================================  ============================================
C++ (zerobuffer::)                          Python (this module)
==========================================  ============================================
ZeroBufferException                         ZeroBufferException
BufferNotFoundException                     BufferNotFoundException
ReaderAlreadyConnectedException             ReaderAlreadyConnectedException
WriterAlreadyConnectedException             WriterAlreadyConnectedException
ReaderDeadException                         ReaderDeadException
WriterDeadException                         WriterDeadException
BufferFullException                         BufferFullException
FrameTooLargeException                      FrameTooLargeException
InvalidFrameSizeException                   InvalidFrameSizeException
MetadataAlreadyWrittenException             MetadataAlreadyWrittenException
MetadataTooLargeException                   MetadataTooLargeException
SequenceError                               SequenceError (.expected, .got)
InvalidNameException                        InvalidNameException (also a ValueError)
InvalidArgumentException                    InvalidArgumentException (also a ValueError)
CorruptBufferException                      CorruptBufferException
ObjectClosedException                       ObjectClosedException (also a ValueError)
UsageException                              UsageException
NameBlockedException                        NameBlockedException
SystemError                                 ZeroBufferOSError (also an OSError, .errno)
DuplexTimeoutException                      DuplexTimeoutException (also a TimeoutError)
(binding) a view still points into memory   LiveViewsError (also a BufferError)
==========================================  ============================================

Where zerobuffer-ipc raises a plain ZeroBufferException (a missing buffer, metadata too large,
a closed reader, a commit without a frame buffer) this package raises the subclass that says
which; where it raises ValueError (BufferConfig, write_timeout, a disposed frame) the class here
is also a ValueError.
"""

from typing import Optional

__all__ = [
    "ZeroBufferException",
    "WriterDeadException",
    "ReaderDeadException",
    "WriterAlreadyConnectedException",
    "ReaderAlreadyConnectedException",
    "BufferFullException",
    "FrameTooLargeException",
    "InvalidFrameSizeException",
    "SequenceError",
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
]


class ZeroBufferException(Exception):
    """Base of every exception of the library."""


class WriterDeadException(ZeroBufferException):
    """The writer closed or its process died, and no frame is left to read."""

    def __init__(self, message: str = "Writer process is dead") -> None:
        super().__init__(message)


class ReaderDeadException(ZeroBufferException):
    """The reader closed or its process died."""

    def __init__(self, message: str = "Reader process is dead") -> None:
        super().__init__(message)


class WriterAlreadyConnectedException(ZeroBufferException):
    """A live writer is already attached to the buffer."""

    def __init__(self, message: str = "Another writer is already connected") -> None:
        super().__init__(message)


class ReaderAlreadyConnectedException(ZeroBufferException):
    """A live reader already owns the buffer name."""

    def __init__(self, message: str = "Another reader is already connected") -> None:
        super().__init__(message)


class BufferFullException(ZeroBufferException):
    """No space became free within the write timeout while the reader stayed alive."""

    def __init__(self, message: str = "Buffer is full") -> None:
        super().__init__(message)


class FrameTooLargeException(ZeroBufferException):
    """The frame does not fit the ring, or can never be placed (the message says which)."""

    def __init__(self, message: str = "Frame size exceeds buffer capacity") -> None:
        super().__init__(message)


class InvalidFrameSizeException(ZeroBufferException):
    """A zero-length frame."""

    def __init__(self, message: str = "Invalid frame size (zero or too large)") -> None:
        super().__init__(message)


class SequenceError(ZeroBufferException):
    """A frame arrived with another sequence number than expected."""

    def __init__(self, expected: int, got: int, message: Optional[str] = None) -> None:
        super().__init__(message if message is not None else f"Sequence error: expected {expected}, got {got}")
        self.expected = expected
        self.got = got


class MetadataAlreadyWrittenException(ZeroBufferException):
    """Metadata is written once per buffer."""

    def __init__(self, message: str = "Metadata has already been written") -> None:
        super().__init__(message)


class BufferNotFoundException(ZeroBufferException):
    """The named buffer does not exist (zerobuffer-ipc: ZeroBufferException)."""


class MetadataTooLargeException(ZeroBufferException):
    """8 + the metadata's length exceeds the metadata block (zerobuffer-ipc: ZeroBufferException)."""


class InvalidNameException(ZeroBufferException, ValueError):
    """A buffer or channel name that no peer can use."""


class InvalidArgumentException(ZeroBufferException, ValueError):
    """A size, timeout or option out of range."""


class CorruptBufferException(ZeroBufferException):
    """A shared-memory field or frame header holds a value the protocol does not allow."""


class ObjectClosedException(ZeroBufferException, ValueError):
    """The object was closed, or the frame released: it cannot be used any more."""


class UsageException(ZeroBufferException):
    """A call made in the wrong state (a commit without a frame buffer, a second start, ...)."""


class NameBlockedException(ZeroBufferException):
    """Another user's object, or an object that is not a buffer, occupies the name."""


class ZeroBufferOSError(ZeroBufferException, OSError):
    """An operating-system call failed (C++ zerobuffer::SystemError); errno is set."""


class DuplexTimeoutException(ZeroBufferException, TimeoutError):
    """A duplex connect or attach wait expired."""


class LiveViewsError(ZeroBufferException, BufferError):
    """Memory cannot be given back while a buffer export (a numpy array, a memoryview slice)
    still points into it. Nothing was changed: delete the views and try again."""
