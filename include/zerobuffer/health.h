// A snapshot of a buffer's state for monitoring (utilisation, counters, peers).
#pragma once

#include <cstdint>

namespace zerobuffer {

struct BufferHealth {
    std::uint64_t payload_size = 0;          // S
    std::uint64_t payload_free_bytes = 0;    // as the OIEB says now
    std::uint64_t payload_used_bytes = 0;    // S - free: unread or unreleased frames and wrap waste
    double utilisation = 0.0;                // used / S, in [0, 1]
    std::uint64_t write_pos = 0;
    std::uint64_t read_pos = 0;
    std::uint64_t written_count = 0;         // frames + wrap markers written
    std::uint64_t read_count = 0;            // frames + wrap markers consumed
    std::uint64_t metadata_size = 0;         // M
    std::uint64_t metadata_written_bytes = 0;
    std::uint64_t writer_pid = 0;
    std::uint64_t reader_pid = 0;
    bool writer_alive = false;
    bool reader_alive = false;
    // Local to the object that produced the snapshot:
    std::uint64_t frames = 0;                // frames read (Reader) or written (Writer)
    std::uint64_t bytes = 0;                 // payload bytes read or written
    std::uint64_t frames_outstanding = 0;    // Reader: frames read but not yet released
    std::uint64_t wraps = 0;                 // wrap markers consumed (Reader) or written (Writer)
    std::uint64_t blocked_waits = 0;         // times a call had to sleep on the semaphore
};

}  // namespace zerobuffer
