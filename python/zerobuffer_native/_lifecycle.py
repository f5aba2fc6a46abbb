"""Closing what is still open when the interpreter exits.

Servers run C++ threads that call into Python, and threads may be blocked in a read: both must
be finished before the interpreter finalises. At exit (atexit, after the program's own atexit
handlers) every live server is stopped and every live reader, writer and client is closed, then
the hook waits briefly until no thread is inside a blocking call of the library.
"""

import atexit
import weakref
from typing import Any

from . import _native

_live: "weakref.WeakSet[Any]" = weakref.WeakSet()


def track(obj: Any) -> None:
    _live.add(obj)


def _shutdown() -> None:
    objects = list(_live)
    # Servers first: their handlers may use the other objects.
    for obj in sorted(objects, key=lambda o: 0 if hasattr(o, "stop") else 1):
        try:
            if hasattr(obj, "stop"):
                obj.stop()
            else:
                obj.close()
        except Exception:  # noqa: BLE001 - best effort at exit (for example live views refuse a close)
            pass
    _native._wait_unblocked(1.0)


atexit.register(_shutdown)
