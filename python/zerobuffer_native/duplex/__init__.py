"""Duplex (request/response) channels: the module layout of zerobuffer.duplex (zerobuffer-ipc)."""

from .client import DuplexClient
from .factory import DuplexChannelFactory
from .interfaces import (DuplexResponse, IDuplexChannelFactory, IDuplexClient, IDuplexServer, IImmutableDuplexServer,
                         IMutableDuplexServer)
from .processing_mode import ProcessingMode
from .server import ImmutableDuplexServer, RequestBuffer
from .._native import ResponseWriter

__all__ = [
    "IDuplexClient",
    "IDuplexServer",
    "IImmutableDuplexServer",
    "IMutableDuplexServer",
    "IDuplexChannelFactory",
    "DuplexResponse",
    "DuplexChannelFactory",
    "DuplexClient",
    "ImmutableDuplexServer",
    "ProcessingMode",
    "RequestBuffer",
    "ResponseWriter",
]
