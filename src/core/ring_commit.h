// The writer's commit step as a pure function: given the writer's cursor, a placement chosen by
// ring::plan_write and the frame's size, what to write into the ring and what to store in the
// OIEB. No OS calls and no shared memory: the caller (src/stream/writer_*.cpp) applies the
// result in the publication order documented below, and tests/unit drives these very functions.
//
// Publication order (docs/protocol.md §3.3), for a frame and for a standalone wrap alike:
//   data, then write_commit() / write_standalone_marker() -> fetch_sub(payload_free_bytes, take)
//   -> store payload_write_pos -> store payload_written_count -> post sem-w.
// Space is only ever taken for units that are completely written, so a position-reading reader
// can tell a completely full ring from an empty one (ring_consume.h); and since the space is
// taken before the units are visible, the reader never returns it before the writer took it
// (payload_free_bytes never exceeds S with our writer).
#pragma once

#include <cstddef>
#include <cstring>
#include <span>

#include "core/ring.h"

namespace zerobuffer::ring {

// The writer-owned OIEB fields, as the writer keeps them.
struct WriterCursor {
    u64 write_pos = 0;       // in [0, S); a Python writer may have left S, which plan_write treats as 0
    u64 written_count = 0;   // frames + wrap markers published
};

struct Commit {
    bool marker = false;     // a wrap marker goes at marker_at
    u64 marker_at = 0;
    u64 header_at = 0;       // where the frame header goes; its data follows
    u64 take = 0;            // subtracted from payload_free_bytes: wrap waste + 16 + n
    u64 waste = 0;           // the tail given up by a wrap (0 when the frame goes at p)
    WriterCursor next;       // cursor after the frame
};

// Precondition: placement.kind is here or wrap, computed for this cursor and T = 16 + n.
constexpr Commit plan_commit(u64 S, WriterCursor cursor, const Placement& placement, u64 n) noexcept {
    const u64 T = wire_size(n);
    Commit c;
    c.header_at = placement.offset;
    c.waste = placement.kind == PlacementKind::wrap ? placement.waste : 0;
    c.marker = placement.kind == PlacementKind::wrap && placement.marker;
    c.marker_at = cursor.write_pos;
    c.take = c.waste + T;
    // A marker is counted like a frame; a wrap without one (a tail too short for it) is not.
    c.next.written_count = cursor.written_count + (c.marker ? 2 : 1);
    c.next.write_pos = advance(S, placement.offset, T);  // modulo S, never S
    return c;
}

struct StandaloneWrap {
    u64 marker_at = 0;
    u64 take = 0;            // the tail, returned by our reader when it passes the marker
    WriterCursor next;
};

// Precondition: placement.kind is standalone_wrap for this cursor.
constexpr StandaloneWrap plan_standalone_wrap(u64 S, WriterCursor cursor) noexcept {
    const u64 p = cursor.write_pos >= S ? S : cursor.write_pos;
    return {p, S - p, {0, cursor.written_count + 1}};
}

inline void store_header(std::span<std::byte> ring, u64 at, const protocol::FrameHeader& h) noexcept {
    std::memcpy(ring.data() + at, &h, sizeof h);  // headers sit at arbitrary byte offsets
}

// Writes the marker (if any) and the frame header of `c` into the ring (ring.size() == S).
inline void write_commit(std::span<std::byte> ring, const Commit& c, u64 n, u64 sequence) noexcept {
    if (c.marker) store_header(ring, c.marker_at, {0, 0});
    store_header(ring, c.header_at, {n, sequence});
}

inline void write_standalone_marker(std::span<std::byte> ring, const StandaloneWrap& w) noexcept {
    store_header(ring, w.marker_at, {0, protocol::kStandaloneWrapSequence});
}

}  // namespace zerobuffer::ring
