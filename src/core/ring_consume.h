// The reader's consume step as a pure function: given the reader's cursor and the ring's bytes,
// what the next unit at the read position is (a frame, a wrap of some kind, or corruption) and
// where the cursor goes after it. No OS calls; every offset comes from the cursor and S, never
// from shared memory, so a hostile header can only be classified as corrupt.
//
// The caller decides first that a unit is published (positions or a sem-w post, see
// src/stream/reader_read.cpp), then applies the result: wrap waste and frames are queued in
// ring order for release (core/release_fifo.h), frames are handed out.
#pragma once

#include <cstring>
#include <span>

#include "core/ring.h"

namespace zerobuffer::ring {

// The reader-owned OIEB fields, as the reader keeps them.
struct ReaderCursor {
    u64 read_pos = 0;    // in [0, S)
    u64 read_count = 0;  // frames + consumed wrap markers
};

enum class UnitKind {
    frame,            // a frame of `size` data bytes at `offset` (header there, data after it)
    wrap,             // a wrap marker: continue at 0, the frame is there
    standalone_wrap,  // our writer's marker published on its own: continue at 0, nothing behind it yet
    implicit_wrap,    // a 1..15-byte tail: the writer wrapped without a marker (not counted)
    corrupt,          // the header at `offset` is not acceptable; `problem` says why
};

struct Unit {
    UnitKind kind = UnitKind::corrupt;
    u64 offset = 0;
    u64 size = 0;                 // frame data bytes
    u64 sequence = 0;             // frame sequence number
    u64 waste = 0;                // ring bytes given up by a wrap; returned in ring order
    protocol::FrameHeader header{};
    const char* problem = nullptr;
    ReaderCursor next;            // cursor after this unit
};

inline protocol::FrameHeader load_header(std::span<const std::byte> ring, u64 at) noexcept {
    protocol::FrameHeader h;
    std::memcpy(&h, ring.data() + at, sizeof h);
    return h;
}

// The unit at the cursor. Precondition: ring.size() == S >= 16 and cursor.read_pos < S.
inline Unit next_unit(u64 S, ReaderCursor cursor, std::span<const std::byte> ring) noexcept {
    Unit u;
    const u64 rp = cursor.read_pos;
    u.offset = rp;
    if (needs_implicit_wrap(S, rp)) {
        u.kind = UnitKind::implicit_wrap;
        u.waste = S - rp;
        u.next = {0, cursor.read_count};  // writers that wrap this way do not count it either
        return u;
    }
    u.header = load_header(ring, rp);
    const HeaderCheck check = classify_header(S, rp, u.header);
    switch (check.kind) {
        case HeaderKind::wrap_marker:
        case HeaderKind::standalone_wrap:
            u.kind = check.kind == HeaderKind::wrap_marker ? UnitKind::wrap : UnitKind::standalone_wrap;
            u.waste = S - rp;
            u.next = {0, cursor.read_count + 1};
            return u;
        case HeaderKind::corrupt:
            u.kind = UnitKind::corrupt;
            u.problem = check.problem;
            u.next = cursor;
            return u;
        case HeaderKind::frame:
            break;
    }
    u.kind = UnitKind::frame;
    u.size = u.header.payload_size;
    u.sequence = u.header.sequence_number;
    u.next = {advance(S, rp, wire_size(u.size)), cursor.read_count + 1};
    return u;
}

// Equal read and write positions mean an empty ring, or a completely full one: no byte free and
// none held by this reader (consumed and not yet returned). Writers take space only for units
// that are completely written, so a full ring is a published ring. `unreturned` must be read
// before `free_bytes` (see ReleaseQueue::unreturned_bytes).
constexpr bool ring_full(u64 free_bytes, u64 unreturned) noexcept { return free_bytes == 0 && unreturned == 0; }

// Whether a position-reading reader may take the unit at `read_pos` now, given the writer's
// write position `write_pos` (as loaded, possibly S) and ring_full() for the equal case.
constexpr bool unit_published(u64 S, u64 read_pos, u64 write_pos, bool ring_full) noexcept {
    const u64 wp = write_pos >= S ? 0 : write_pos;
    return wp != read_pos || ring_full;
}

}  // namespace zerobuffer::ring
