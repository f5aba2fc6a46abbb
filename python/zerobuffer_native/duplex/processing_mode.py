"""ProcessingMode of a duplex server."""

from enum import Enum

__all__ = ["ProcessingMode"]


class ProcessingMode(Enum):
    """SINGLE_THREAD: one server thread reads, runs the handler and writes (zero-copy into the
    client's ring). THREAD_POOL: handlers run on worker threads, responses still leave in request
    order (zerobuffer-ipc raises NotImplementedError for it)."""

    SINGLE_THREAD = "single_thread"
    THREAD_POOL = "thread_pool"
