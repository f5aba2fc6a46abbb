// Configuration. BufferConfig is what goes on the wire (sizes) plus who may open the buffer;
// ReaderOptions and WriterOptions are each side's local policy (waiting, prefaulting, checks)
// and never change a byte in shared memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace zerobuffer {

// The buffer as created by its reader: the sizes written into the OIEB and the access rights of
// its OS objects (shared memory, both semaphores, lock file).
struct BufferConfig {
    std::size_t metadata_size = 1024;         // rounded up to 64; 0 allowed (no metadata possible)
    std::size_t payload_size = 1024 * 1024;   // rounded up to 64; > 0; ring holds frames of 16 + n bytes

    // Mode of the OS objects. Unset: 0600 (owner only), or 0660 when `group` is set. Set: exactly
    // this mode, for example 0666 to let any user attach a writer (docs/operations.md).
    std::optional<unsigned> permissions;
    // Group that may open the buffer: a group name or a numeric gid. The objects get this group
    // and, unless `permissions` says otherwise, mode 0660. The creating user must belong to it.
    std::optional<std::string> group;
};

// How a side waits when it has nothing to do: it first polls without a syscall (the spin),
// then sleeps on its semaphore in slices of `liveness_interval`, checking the peer after each.
struct WaitStrategy {
    // Longest spin. The spin adapts to the recent gap between frames (about 1.5 times it) and
    // never exceeds this; 0 disables spinning.
    std::chrono::microseconds spin{200};
    // > 0. A peer's death is noticed within about one interval while this side waits.
    std::chrono::milliseconds liveness_interval{50};
};

// How this side treats its peer. `automatic` uses the zerobuffer-to-zerobuffer extensions
// (standalone wrap markers) when the peer is a zerobuffer C++ process, detected through its
// liveness lock, and plain ZeroBuffer v1 otherwise. `foreign` on a Writer always behaves as
// towards a Python or C# reader. A Reader's automatic mode is correct towards every writer;
// `foreign` on a Reader runs the protocol step by step as the peers' own readers do (one sem-w
// post per frame, space returned at every release), for conformance tests; it is never chosen
// automatically.
enum class PeerMode { automatic, foreign };

// How a reader finds new frames. `positions`: from payload_write_pos, taking semaphore posts
// only before it sleeps (no per-frame semaphore operation; needs a writer whose stores are
// ordered, which holds for every peer on x86-64). `posts`: one sem-w post per frame, the
// protocol's portable path. `automatic`: positions on x86-64, posts elsewhere.
enum class FrameDiscovery { automatic, positions, posts };

struct ReaderOptions {
    // Commit and map every page at creation (fallocate + MAP_POPULATE): a full /dev/shm fails
    // at creation with a clear error instead of SIGBUS later, and streaming takes no page faults.
    bool prefault = true;
    // Raise SequenceError when a frame's sequence is neither the previous one + 1 nor 1 (a new
    // writer starts again at 1; that is accepted, whichever process it is in).
    bool verify_sequence = true;
    WaitStrategy wait{};
    PeerMode peer_mode = PeerMode::automatic;
    FrameDiscovery discovery = FrameDiscovery::automatic;
};

struct WriterOptions {
    std::chrono::milliseconds write_timeout{5000};  // > 0: how long a blocking write may wait for space
    bool prefault = true;                           // map with MAP_POPULATE
    // Refuse (InvalidArgumentException) to attach to a buffer whose segment another user owns.
    bool require_same_owner = false;
    WaitStrategy wait{};
    PeerMode peer_mode = PeerMode::automatic;
};

}  // namespace zerobuffer
