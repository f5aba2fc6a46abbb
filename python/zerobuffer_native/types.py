"""Protocol types: BufferConfig, and OIEB / FrameHeader (the wire structures, for tools)."""

import struct
from dataclasses import dataclass, field
from typing import Optional, Tuple

from ._native import Frame
from .exceptions import InvalidArgumentException

BLOCK_ALIGNMENT = 64

__all__ = ["BufferConfig", "Frame", "OIEB", "FrameHeader", "ProtocolVersion", "align_to_boundary", "BLOCK_ALIGNMENT"]


@dataclass
class BufferConfig:
    """The buffer a Reader creates: metadata block and payload ring sizes in bytes (each rounded
    up to 64), and optionally the mode and group of its OS objects (C++ BufferConfig).

    The library checks the sizes when the Reader is created and says what is wrong.
    metadata_size 0 is allowed here (a buffer without metadata); zerobuffer-ipc refuses it."""

    metadata_size: int = 1024
    payload_size: int = 1024 * 1024
    permissions: Optional[int] = field(default=None, kw_only=True)
    group: Optional[str] = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        for name in ("metadata_size", "payload_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"BufferConfig.{name} must be an int, not {type(value).__name__}")
            if value < 0:
                raise InvalidArgumentException(f"BufferConfig.{name} is negative ({value})")


@dataclass
class ProtocolVersion:
    major: int = 1
    minor: int = 0
    patch: int = 0
    reserved: int = 0


@dataclass
class OIEB:
    """The 128-byte Operation Info Exchange Block at the start of every buffer."""

    FORMAT = "<I4B11Q4Q"
    SIZE = 128

    oieb_size: int
    version: ProtocolVersion
    metadata_size: int
    metadata_free_bytes: int
    metadata_written_bytes: int
    payload_size: int
    payload_free_bytes: int
    payload_write_pos: int
    payload_read_pos: int
    payload_written_count: int
    payload_read_count: int
    writer_pid: int
    reader_pid: int
    _reserved: Tuple[int, int, int, int] = (0, 0, 0, 0)

    def pack(self) -> bytes:
        v = self.version
        return struct.pack(self.FORMAT, self.oieb_size, v.major, v.minor, v.patch, v.reserved, self.metadata_size,
                           self.metadata_free_bytes, self.metadata_written_bytes, self.payload_size,
                           self.payload_free_bytes, self.payload_write_pos, self.payload_read_pos,
                           self.payload_written_count, self.payload_read_count, self.writer_pid, self.reader_pid,
                           *self._reserved)

    @classmethod
    def unpack(cls, data: bytes) -> "OIEB":
        if len(data) < cls.SIZE:
            raise ValueError(f"Invalid OIEB data size: {len(data)} < {cls.SIZE}")
        f = struct.unpack(cls.FORMAT, bytes(data[: cls.SIZE]))
        return cls(f[0], ProtocolVersion(*f[1:5]), *f[5:16], tuple(f[16:20]))  # type: ignore[arg-type]


@dataclass
class FrameHeader:
    """The 16-byte header before every frame: payload size and sequence number."""

    FORMAT = "<2Q"
    SIZE = 16
    WRAP_MARKER = 0

    payload_size: int
    sequence_number: int

    def pack(self) -> bytes:
        return struct.pack(self.FORMAT, self.payload_size, self.sequence_number)

    @classmethod
    def unpack(cls, data: bytes) -> "FrameHeader":
        if len(data) < cls.SIZE:
            raise ValueError(f"Invalid frame header size: {len(data)} < {cls.SIZE}")
        return cls(*struct.unpack(cls.FORMAT, bytes(data[: cls.SIZE])))

    def is_wrap_marker(self) -> bool:
        return self.payload_size == self.WRAP_MARKER


def align_to_boundary(size: int, alignment: int = BLOCK_ALIGNMENT) -> int:
    return (size + alignment - 1) // alignment * alignment
