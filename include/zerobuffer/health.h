// A snapshot of a buffer's state for monitoring (utilisation, counters, peers).
#pragma once

#include "zerobuffer/export.h"

#include <cstdint>

namespace zerobuffer {

// What is known about a peer process.
enum class PeerStatus {
    absent,   // its PID field is 0: none attached (or it closed)
    alive,
    dead,
    unknown,  // its PID cannot be judged from this PID namespace (for example PID 1 of a container)
};
ZEROBUFFER_API const char* to_string(PeerStatus status) noexcept;

struct PeerHealth {
    std::uint64_t pid = 0;
    PeerStatus status = PeerStatus::absent;
    // It holds a zerobuffer liveness lock: a zerobuffer C++ process, judged by the lock (valid
    // across PID namespaces), not by its PID.
    bool zerobuffer = false;
};

struct BufferHealth {
    std::uint64_t payload_size = 0;          // S
    std::uint64_t payload_free_bytes = 0;    // as the OIEB says now
    std::uint64_t payload_used_bytes = 0;    // S - free: unread or unreleased frames and wrap waste
    double utilisation = 0.0;                // used / S, in [0, 1]
    std::uint64_t write_pos = 0;
    std::uint64_t read_pos = 0;              // as last published by the reader (it publishes in batches)
    std::uint64_t written_count = 0;         // frames + wrap markers written
    std::uint64_t read_count = 0;            // frames + wrap markers consumed (published in batches)
    std::uint64_t metadata_size = 0;         // M
    std::uint64_t metadata_written_bytes = 0;
    PeerHealth writer;
    PeerHealth reader;
    std::uint64_t writer_pid = 0;            // = writer.pid
    std::uint64_t reader_pid = 0;            // = reader.pid
    bool writer_alive = false;               // writer.status == alive
    bool reader_alive = false;               // reader.status == alive
    std::uint32_t owner_uid = 0;             // owner of the shared-memory segment
    std::uint32_t mode = 0;                  // its permission bits
    // Local to the object that produced the snapshot:
    std::uint64_t frames = 0;                // frames read (Reader) or written (Writer)
    std::uint64_t bytes = 0;                 // payload bytes read or written
    std::uint64_t frames_outstanding = 0;    // Reader: frames read but not yet released
    std::uint64_t wraps = 0;                 // wrap markers consumed (Reader) or written (Writer)
    std::uint64_t blocked_waits = 0;         // times a call had to sleep on the semaphore
};

}  // namespace zerobuffer
