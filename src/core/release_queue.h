// The reader's FIFO of outstanding frames (contract §3.9 reader step 6). Frames may be released
// in any order and from any thread, but space returns to the writer strictly in ring order:
// a release only marks its entry, and entries are popped from the front while released.
// Wrap waste is queued as an already-released entry, so it too returns only once everything
// before it in the ring has been released.
//
// It also owns what frames need after their Reader is gone: the mapping and sem-r.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "core/oieb_view.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/shared_memory.h"

namespace zerobuffer::detail {

class ReleaseQueue {
public:
    ReleaseQueue(posix::SharedMemory shm, posix::NamedSemaphore sem_read);
    ReleaseQueue(const ReleaseQueue&) = delete;
    ReleaseQueue& operator=(const ReleaseQueue&) = delete;

    std::byte* base() const noexcept { return shm_.data(); }
    const posix::SharedMemory& memory() const noexcept { return shm_; }
    OiebView oieb() const noexcept { return OiebView(reinterpret_cast<protocol::Oieb*>(shm_.data())); }

    // Reader thread: a frame of `wire_bytes` (16 + n) was handed out; returns its ticket.
    std::uint64_t push_frame(std::uint64_t wire_bytes);
    // Reader thread: wrap waste consumed; returned in order with the frames around it.
    void push_waste(std::uint64_t bytes);
    // Any thread. Marks the ticket released and returns everything releasable at the front:
    // fetch_add(payload_free_bytes), then one sem-r post. Never throws.
    void release(std::uint64_t ticket) noexcept;

    std::uint64_t outstanding_frames() const;

private:
    struct Entry {
        std::uint64_t bytes;
        bool released;
    };
    void grow();                          // called with the mutex held
    void drain_front_locked(std::uint64_t& bytes) noexcept;

    posix::SharedMemory shm_;
    posix::NamedSemaphore sem_read_;
    mutable std::mutex mutex_;
    std::vector<Entry> entries_;          // a ring of power-of-two capacity
    std::uint64_t head_ = 0;              // ticket of the oldest entry
    std::uint64_t tail_ = 0;              // next ticket
    std::uint64_t frames_outstanding_ = 0;
};

}  // namespace zerobuffer::detail
