"""Topics: one Publisher, many Subscribers (docs/topics.md; C++ zerobuffer/topic.h).

A topic T is the set of ordinary v1 buffers named T@ID, one per subscriber. Each Subscriber
creates its own buffer and sizes its own ring; the Publisher finds those buffers by itself,
attaches to each one as its v1 writer, writes the topic's metadata into it and copies every
frame into every ring. Any v1 reader is a subscriber too (a zerobuffer-ipc
Reader("T@anything", ...) included).

    with Publisher("camera0") as publisher:
        publisher.set_metadata(b"1920x1080 rgb")
        with publisher.acquire_frame(1920 * 1080 * 3) as loan:   # zero-copy: the ring itself
            np.frombuffer(loan.data, np.uint8)[:] = 7             # del such arrays before the end
        publisher.publish(b"any bytes-like object")

    with Subscriber("camera0", BufferConfig(4096, 64 << 20)) as subscriber:
        frame = subscriber.read_frame(timeout=5.0)                 # a Frame, or None
"""

import enum
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Union

from . import _native
from ._lifecycle import track

__all__ = ["Publisher", "PublishLoan", "Subscriber", "SlowSubscriberPolicy", "SubscriberState", "SubscriberInfo"]

PublishLoan = _native.PublishLoan


class SlowSubscriberPolicy(str, enum.Enum):
    """What a publisher does when a subscriber's ring has no room (C++ SlowSubscriberPolicy)."""

    BLOCK = "block"  # wait up to write_timeout, then drop that subscriber (every frame to everyone)
    DROP = "drop"  # never wait: the full subscriber misses the frame, counted in frames_dropped


class SubscriberState(str, enum.Enum):
    """A subscriber buffer as its publisher sees it (C++ SubscriberState)."""

    ACTIVE = "active"
    DROPPED = "dropped"
    GONE = "gone"
    INCOMPATIBLE = "incompatible"
    BUSY = "busy"
    INVALID = "invalid"


@dataclass(frozen=True)
class SubscriberInfo:
    """One subscriber buffer as its publisher sees it (C++ SubscriberInfo)."""

    buffer_name: str
    id: str
    state: SubscriberState
    frames_delivered: int
    frames_dropped: int
    reader_pid: int
    reason: str

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "SubscriberInfo":
        return cls(**{**d, "state": SubscriberState(d["state"])})


def _info_callback(callback: Optional[Callable[[SubscriberInfo], Any]]) -> Optional[Callable[[Dict[str, Any]], Any]]:
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"on_subscriber_change must be callable or None, not {type(callback).__name__}")
    return lambda d: callback(SubscriberInfo._from(d))


class Publisher(_native.Publisher):
    """The publishing side of topic TOPIC.

    It may start before, after or between its subscribers: buffers TOPIC@* are found within
    milliseconds (inotify on /dev/shm, plus a listing every `rescan_interval` seconds).

    policy: SlowSubscriberPolicy or "block" / "drop". write_timeout (seconds or a timedelta):
    how long one full subscriber may hold a publish under "block" before it is dropped.
    on_subscriber_change(info): called with a SubscriberInfo at every change of a subscriber's
    state, on the publisher's own thread (it may read subscribers() and subscriber_count; its
    exceptions are printed and ignored).

    publish(data) copies any bytes-like object once into each subscriber's ring and returns how
    many got it; acquire_frame(size) lends the first subscriber's ring itself (a PublishLoan:
    fill loan.data, then commit(), or use it as a context manager). Calls that wait release the
    GIL; Ctrl-C interrupts them within about 50 ms (the frame then reaches the subscribers served
    before the wait only). close() (or leaving the with block) detaches from every subscriber.
    """

    __slots__ = ()

    def __init__(self, topic: str, *, policy: Union[SlowSubscriberPolicy, str] = SlowSubscriberPolicy.BLOCK,
                 write_timeout: Any = 5.0, rescan_interval: Any = 1.0, use_inotify: bool = True,
                 prefault: bool = True, on_subscriber_change: Optional[Callable[[SubscriberInfo], Any]] = None) -> None:
        if isinstance(policy, SlowSubscriberPolicy):
            policy = policy.value
        elif not isinstance(policy, str):
            raise TypeError(f"policy must be a SlowSubscriberPolicy or 'block' / 'drop', not {type(policy).__name__}")
        super().__init__(topic, policy=policy, write_timeout=write_timeout, rescan_interval=rescan_interval,
                         use_inotify=use_inotify, prefault=prefault,
                         on_subscriber_change=_info_callback(on_subscriber_change))
        track(self)

    def subscribers(self) -> List[SubscriberInfo]:
        """Every subscriber buffer this publisher knows of, ordered by buffer name."""
        return [SubscriberInfo._from(d) for d in self._subscribers()]


class Subscriber(_native.Subscriber):
    """One subscriber of topic TOPIC: creates and owns the buffer TOPIC@ID (ID: unique per
    process and call when None) with `config` (its metadata block must hold the topic's
    metadata) and reads it like a Reader.

    read_frame(timeout=5.0) returns a Frame or None on timeout; when the publisher dies or
    closes it returns what it wrote, then raises WriterDeadException once; later calls wait for
    the next publisher, taken up as a new writer (sequences start again at 1). get_metadata()
    gives the topic's metadata (a copy) once a publisher has written it.
    """

    __slots__ = ()

    def __init__(self, topic: str, config: Optional[Any] = None, id: Optional[str] = None, *,
                 verify_sequence: bool = True, prefault: bool = True) -> None:
        super().__init__(topic, config, id, verify_sequence=verify_sequence, prefault=prefault)
        track(self)
