"""Topics (Publisher / Subscriber): RESERVED, NOT IMPLEMENTED YET.

The C++ topics API is being built on another branch of this repository. Once it has landed, its
bindings go into python/src/topics.cpp (registered in python/src/module.cpp, where a comment
marks the place) and the Python classes here, exported from zerobuffer_native. Until then both
names exist so that the import works, and using them raises NotImplementedError.
"""

from typing import Any, NoReturn

__all__ = ["Publisher", "Subscriber"]

_MESSAGE = "topics (Publisher/Subscriber) are not in this build of zerobuffer_native yet"


class Publisher:
    def __init__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(_MESSAGE)


class Subscriber:
    def __init__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(_MESSAGE)
