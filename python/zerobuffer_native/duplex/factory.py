"""DuplexChannelFactory: creates duplex servers and clients."""

from typing import Any, NoReturn, Optional

from .. import _native
from .client import DuplexClient
from .interfaces import IDuplexChannelFactory
from .server import ImmutableDuplexServer

__all__ = ["DuplexChannelFactory"]


class DuplexChannelFactory(IDuplexChannelFactory):
    _instance: Optional["DuplexChannelFactory"] = None

    @classmethod
    def get_instance(cls) -> "DuplexChannelFactory":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def create_immutable_server(self, channel_name: str, config: Optional[Any] = None, timeout: Optional[float] = None,
                                **options: Any) -> ImmutableDuplexServer:
        """A server of `channel_name` (not started). `timeout` (seconds): how long the server
        waits for a client's response buffer. Keyword options: poll_interval, response_policy,
        worker_threads, max_in_flight."""
        return ImmutableDuplexServer(channel_name, config, timeout, **options)

    def create_mutable_server(self, channel_name: str, config: Any) -> NoReturn:
        raise NotImplementedError("a mutable duplex server is not part of zerobuffer (nor of zerobuffer-ipc)")

    def create_client(self, channel_name: str, **options: Any) -> DuplexClient:
        """A client of `channel_name`, connected (waits up to connect_timeout=5.0 seconds for a
        server). Keyword options: response_config, connect_timeout, metadata."""
        return DuplexClient(channel_name, **options)

    @staticmethod
    def wait_exists(channel_name: str, timeout: float) -> bool:
        """True once a live server has created the channel's request buffer (within `timeout` s)."""
        return _native.duplex_channel_exists(channel_name, timeout)
