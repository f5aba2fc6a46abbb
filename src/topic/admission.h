// Attaching the publisher to one subscriber buffer: the Writer, a check that it is the buffer
// that was looked at, and the metadata an earlier publisher may have left in it. What to do
// with a buffer that cannot be attached is the caller's (discovery's) decision.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topic/link.h"
#include "topic/roster.h"
#include "zerobuffer/config.h"

namespace zerobuffer::detail {

struct Admission {
    enum class Outcome {
        attached,      // `link` was handed over to the publishing thread
        retry,         // not attachable yet (still being created, or replaced meanwhile)
        reader_dead,   // its reader is gone: reclaim it
        incompatible,  // metadata (see Roster::admit)
        busy,          // another writer is attached
        invalid,       // not a usable v1 buffer (or not ours to open)
        absent,        // no segment under the name
    };
    Outcome outcome = Outcome::absent;
    std::string reason;
    std::shared_ptr<Link> link;
    SegmentKey key;
    std::uint64_t reader_pid = 0;
};

// The segment file now named NAME; empty if there is none.
SegmentKey segment_key(const std::string& name);

// Attaches a Writer to buffer NAME (subscriber ID `id`) and hands it to `roster`. Never throws
// for what it finds; throws only what it cannot judge (std::bad_alloc and the like).
Admission admit_subscriber(const std::string& name, std::string_view id, const WriterOptions& options, Roster& roster);

// The metadata written in buffer NAME, whose segment must still be `key`, read with pread
// (the caller is its writer, so it cannot change meanwhile); nullopt if it cannot be read or its
// header is inconsistent.
std::optional<std::vector<std::byte>> written_metadata(const std::string& name, SegmentKey key);

}  // namespace zerobuffer::detail
