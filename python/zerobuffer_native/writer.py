"""Writer: attaches to a buffer and writes frames (zerobuffer.writer in zerobuffer-ipc)."""

from . import _native
from ._lifecycle import track

__all__ = ["Writer"]


class Writer(_native.Writer):
    """Attaches to the buffer NAME, created by a reader of any language, and writes frames.

    write_frame(data) takes any bytes-like object and copies it once into the ring; for
    zero-copy, get_frame_buffer(size) returns a writable memoryview of the ring to fill and
    commit_frame() publishes it. Waits for space run without the GIL, up to write_timeout
    (a timedelta, default 5 s); a dead reader is noticed within about 50 ms.
    """

    __slots__ = ()

    def __init__(self, name: str, *, require_same_owner: bool = False) -> None:
        super().__init__(name, require_same_owner=require_same_owner)
        track(self)
