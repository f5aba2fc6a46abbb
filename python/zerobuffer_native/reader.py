"""Reader: creates a buffer and reads frames from it (zerobuffer.reader in zerobuffer-ipc)."""

from typing import Any, Optional

from . import _native
from ._lifecycle import track

__all__ = ["Reader"]


class Reader(_native.Reader):
    """Creates and owns the buffer NAME (shared memory, two semaphores, a lock file) and reads
    frames from it, zero-copy.

    read_frame(timeout=5.0) waits up to `timeout` seconds (None: for ever) without holding the
    GIL and returns None on timeout; WriterDeadException once the writer has gone (noticed within
    about 50 ms) and every frame it wrote has been read. Frames may be released in any order,
    from any thread, also after the reader is closed. close() removes every object of the buffer.
    """

    __slots__ = ()

    def __init__(self, name: str, config: Optional[Any] = None, *, verify_sequence: bool = True,
                 prefault: bool = True) -> None:
        super().__init__(name, config, verify_sequence=verify_sequence, prefault=prefault)
        track(self)
