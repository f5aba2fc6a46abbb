// Configuration of a buffer (given by the reader, which creates it) and of a writer.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace zerobuffer {

// How a blocked side waits. A side first spins (polling without a syscall) for `spin`, then
// sleeps on the semaphore in slices of `liveness_interval`, checking the peer process after
// each slice. The peer's death is therefore noticed within about one interval.
struct WaitStrategy {
    std::chrono::microseconds spin{20};                   // 0 disables spinning
    std::chrono::milliseconds liveness_interval{50};      // > 0; peer death is noticed within this
};

struct BufferConfig {
    std::size_t metadata_size = 1024;         // rounded up to 64; 0 allowed (no metadata possible)
    std::size_t payload_size = 1024 * 1024;   // rounded up to 64; > 0; ring holds frames of 16 + n bytes

    // Mode of the shared memory, semaphores and lock file. Unset: 0666 filtered by the umask,
    // as the Python and C# peers do. Set: exactly this mode (fchmod after creation), for
    // example 0660 to share with a group or 0666 to let another user attach a writer.
    std::optional<unsigned> permissions;

    // Commit and map every page at creation (fallocate + MAP_POPULATE): a full /dev/shm fails
    // here with a clear error instead of SIGBUS later, and streaming takes no page faults.
    bool prefault = true;

    // Raise SequenceError when a frame's sequence is neither the previous one + 1 nor 1 (a new
    // writer starts again at 1; that is accepted, whichever process it is in).
    bool verify_sequence = true;

    WaitStrategy wait{};
};

struct WriterOptions {
    std::chrono::milliseconds write_timeout{5000};  // > 0: how long a write may wait for space
    bool prefault = true;                           // map with MAP_POPULATE
    WaitStrategy wait{};
};

}  // namespace zerobuffer
