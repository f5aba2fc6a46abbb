// Pure ring logic: where the next frame goes, how much free space that needs, and whether a
// frame header read from shared memory is acceptable. No OS calls, no shared memory: every
// function takes positions and sizes and is unit-tested exhaustively (tests/unit/ring_test.cpp).
//
// Notation (docs/protocol.md §0.2): S payload ring size, p write position in [0, S], T = 16 + n the
// frame's size on the wire, tail = S - p.
#pragma once

#include <cstdint>

#include "zerobuffer/protocol.h"

namespace zerobuffer::ring {

using u64 = std::uint64_t;
inline constexpr u64 kHeader = protocol::kFrameHeaderSize;

constexpr u64 wire_size(u64 n) noexcept { return kHeader + n; }

// A frame of n data bytes can never fit a ring of S bytes (n == 0 is a separate error).
constexpr bool exceeds_ring(u64 S, u64 n) noexcept { return S < kHeader || n > S - kHeader; }

// A tail of 1..15 bytes cannot hold a wrap marker, and no foreign reader handles it (§3.7).
constexpr bool is_small_gap(u64 bytes) noexcept { return bytes > 0 && bytes < kHeader; }

enum class PlacementKind {
    here,             // write the frame at p
    wrap,             // write a marker at p (if tail >= 16), waste the tail, write the frame at 0
    standalone_wrap,  // publish a marker at p on its own, wait for the reader to pass it, plan again
    impossible,       // this reader can never take this frame at this position
};

struct Placement {
    PlacementKind kind;
    u64 offset;    // where the frame header goes (here: p, wrap: 0)
    u64 required;  // payload_free_bytes needed before writing: T, tail + T, or tail
    u64 waste;     // tail bytes given up by a wrap
    bool marker;   // a wrap marker is written at p
};

// Chooses the placement of a T-byte frame at write position p (docs/protocol.md §3.3).
// `cooperative_reader`: the reader is a zerobuffer C++ reader, which accepts standalone wrap
// markers and small tail gaps. Foreign readers get only placements every peer can read.
constexpr Placement plan_write(u64 S, u64 p, u64 T, bool cooperative_reader) noexcept {
    const u64 tail = p >= S ? 0 : S - p;   // a Python writer may leave p == S: no tail
    const u64 pos = p >= S ? S : p;
    if (tail >= T && !is_small_gap(tail - T)) return {PlacementKind::here, pos, T, 0, false};
    if (T <= pos) return {PlacementKind::wrap, 0, tail + T, tail, tail >= kHeader};
    // T > p: a wrap now would have the frame overwrite its own marker (catalogue B1).
    if (cooperative_reader && pos > 0 && tail >= kHeader) return {PlacementKind::standalone_wrap, 0, tail, tail, true};
    if (cooperative_reader && tail >= T) return {PlacementKind::here, pos, T, 0, false};  // leaves a gap we read
    return {PlacementKind::impossible, 0, 0, 0, false};
}

// Position after a frame of T bytes written at `offset` (offset + T <= S); never S.
constexpr u64 advance(u64 S, u64 offset, u64 T) noexcept { return offset + T >= S ? 0 : offset + T; }

// The reader at read position rp has fewer than 16 bytes before the end: the writer wrapped
// without a marker (docs/protocol.md §3.7).
constexpr bool needs_implicit_wrap(u64 S, u64 rp) noexcept { return rp != 0 && S - rp < kHeader; }

enum class HeaderKind { frame, wrap_marker, standalone_wrap, corrupt };

struct HeaderCheck {
    HeaderKind kind;
    const char* problem;  // for corrupt: what is wrong, naming the field
};

// Classifies the header at read position rp (precondition: rp + 16 <= S).
constexpr HeaderCheck classify_header(u64 S, u64 rp, protocol::FrameHeader h) noexcept {
    if (h.payload_size == 0) {
        if (h.sequence_number != 0 && h.sequence_number != protocol::kStandaloneWrapSequence) {
            return {HeaderKind::corrupt, "frame header payload_size is 0 (wrap marker) but sequence_number is not 0"};
        }
        if (rp == 0) return {HeaderKind::corrupt, "wrap marker at offset 0 of the ring"};
        return {h.sequence_number == 0 ? HeaderKind::wrap_marker : HeaderKind::standalone_wrap, nullptr};
    }
    if (h.payload_size > S - rp - kHeader) {
        return {HeaderKind::corrupt, "frame header payload_size runs past the end of the payload ring"};
    }
    return {HeaderKind::frame, nullptr};
}

}  // namespace zerobuffer::ring
