// The bridge's wire format (docs/bridge.md, "Wire format"): every bridge message is a ZeroMQ
// multipart message of two parts, a 32-byte header and a payload. Pure: no ZeroMQ, no OS call.
//
//   offset size field
//        0    4 magic     'Z' 'B' 'B' 'R'
//        4    1 version   1
//        5    1 kind      1 metadata, 2 frame
//        6    2 flags     0 (reserved; anything else is rejected)
//        8    8 stream    the sending bridge's stream id (random, never 0), little-endian
//       16    8 sequence  frame: its sequence (>= 1); metadata: the sequence of the next frame
//       24    8 size      bytes in the payload part (frame: >= 1)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace zerobuffer::bridge::wire {

inline constexpr std::size_t kHeaderSize = 32;
inline constexpr std::array<std::byte, 4> kMagic{std::byte{'Z'}, std::byte{'B'}, std::byte{'B'}, std::byte{'R'}};
inline constexpr std::uint8_t kVersion = 1;

enum class Kind : std::uint8_t { metadata = 1, frame = 2 };

struct Header {
    Kind kind = Kind::frame;
    std::uint64_t stream = 0;
    std::uint64_t sequence = 0;
    std::uint64_t size = 0;
};

using HeaderBytes = std::array<std::byte, kHeaderSize>;

[[nodiscard]] HeaderBytes encode(const Header& header) noexcept;

// Why a message was rejected; ok when it is valid.
enum class Verdict {
    ok,
    wrong_part_count,   // not exactly two parts
    wrong_header_size,  // first part is not 32 bytes
    bad_magic,
    unsupported_version,
    unknown_kind,
    reserved_flags,
    zero_stream,
    zero_sequence,      // a frame with sequence 0
    empty_frame,        // a frame of 0 bytes
    size_mismatch,      // header size != payload part size
};
[[nodiscard]] const char* to_string(Verdict verdict) noexcept;

// Validates a received message: `parts` is the number of parts, `header` the first, and
// `payload_size` the size of the second. Never reads past `header`. On ok fills `out`.
[[nodiscard]] Verdict decode(std::size_t parts, std::span<const std::byte> header, std::size_t payload_size,
                             Header& out) noexcept;

}  // namespace zerobuffer::bridge::wire
