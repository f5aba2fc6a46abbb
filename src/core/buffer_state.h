// What a buffer name's objects amount to, and whether they may be reclaimed, as pure rules over
// facts gathered by src/ownership/buffer_probe.cpp. The library (creating a Reader), the duplex
// channel, topics and the `zerobuffer` command all decide with these rules.
#pragma once

#include <cstdint>
#include <string>

#include "core/oieb_check.h"
#include "core/peer_rules.h"

namespace zerobuffer::detail {

enum class LockFileState { absent, free, held, unreadable };

struct BufferFacts {
    bool segment = false;                    // /dev/shm/NAME exists
    bool segment_regular = true;             // ... and is a regular file
    OiebStatus oieb = OiebStatus::too_small; // what its header is
    PeerState reader = PeerState::absent;
    PeerState writer = PeerState::absent;
    LockFileState lock_file = LockFileState::absent;  // /tmp/zerobuffer/NAME.lock
    bool lock_file_is_ours = false;          // the caller itself holds that flock (a creating reader)
    bool csharp_lock_held = false;           // a C# reader holds its lock for NAME
    bool sem_write = false;
    bool sem_read = false;
};

enum class BufferState {
    absent,          // nothing exists under the name
    live,            // a v1 buffer whose reader is alive (or cannot be judged dead)
    writer_gone,     // live, and the writer that had attached is dead
    stale,           // a v1 buffer whose reader is dead or gone: reclaimable
    half_created,    // a segment whose header was never completed, its creator gone: not provably a buffer
    foreign,         // a segment that is not a ZeroBuffer v1 buffer (another program's file)
    orphaned,        // no segment, only semaphores and/or an unheld lock file: reclaimable
    creating,        // a header not completed yet while a creator holds the lock: leave it
};

const char* to_string(BufferState state) noexcept;
const char* to_string(LockFileState state) noexcept;

// Whether any live process may still be using the reader side of the name.
constexpr bool reader_may_live(const BufferFacts& f) noexcept {
    if (f.csharp_lock_held) return true;
    if (f.lock_file == LockFileState::held && !f.lock_file_is_ours) return true;
    if (f.lock_file == LockFileState::unreadable) return true;  // another user's lock: cannot tell
    return f.reader == PeerState::alive || f.reader == PeerState::unknown;
}

constexpr BufferState classify(const BufferFacts& f) noexcept {
    if (!f.segment) {
        if (f.csharp_lock_held || (f.lock_file == LockFileState::held && !f.lock_file_is_ours)) return BufferState::creating;
        const bool leftovers = f.sem_write || f.sem_read || f.lock_file == LockFileState::free;
        return leftovers ? BufferState::orphaned : BufferState::absent;
    }
    if (!f.segment_regular) return BufferState::foreign;
    switch (f.oieb) {
        case OiebStatus::valid:
        case OiebStatus::inconsistent:  // a v1 header with corrupt runtime fields: still a buffer
            if (reader_may_live(f)) {
                return f.writer == PeerState::dead ? BufferState::writer_gone : BufferState::live;
            }
            return BufferState::stale;
        case OiebStatus::too_small:
        case OiebStatus::not_initialised:
            return reader_may_live(f) ? BufferState::creating : BufferState::half_created;
        case OiebStatus::not_v1:
            return BufferState::foreign;
    }
    return BufferState::foreign;
}

// Stale buffers and orphaned objects are provably nobody's; everything else is left alone
// unless the user forces it (the `zerobuffer cleanup --force` path for half-created and
// foreign segments, which it names first).
constexpr bool reclaimable(BufferState s) noexcept { return s == BufferState::stale || s == BufferState::orphaned; }

}  // namespace zerobuffer::detail
