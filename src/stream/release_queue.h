// What the frames of a Reader share, and what outlives the Reader while frames are held: the
// mapping, sem-r, the release FIFO and the reader's published progress. Returns space to the
// writer (docs/protocol.md §3.5): payload_read_pos and payload_read_count are published first,
// then payload_free_bytes grows, then sem-r is posted once.
//
// Threads. The reading thread pushes units and calls drain() in batches and before it waits.
// A release on any other thread drains at once (the reading thread may be asleep waiting for a
// writer that waits for this space). A release on the reading thread only marks its slot while
// the ring is at least half free as far as the reading thread knows; below that it drains at
// once too. A writer in this process that must wait drains us first (local_readers.h).
// Lifetime: reference-counted by the Reader and by every unreleased Frame.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "core/oieb_view.h"
#include "core/release_fifo.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/shared_memory.h"

namespace zerobuffer::detail {

class ReleaseQueue {
public:
    // Holds one reference, the Reader's. `strict`: every release returns its space at once (the
    // protocol's step-by-step behaviour, PeerMode::foreign).
    ReleaseQueue(posix::SharedMemory segment, posix::NamedSemaphore sem_read, std::uint64_t payload_size, bool strict);
    ReleaseQueue(const ReleaseQueue&) = delete;
    ReleaseQueue& operator=(const ReleaseQueue&) = delete;

    std::byte* base() const noexcept { return segment_.data(); }
    const posix::SharedMemory& segment() const noexcept { return segment_; }
    posix::SharedMemory& segment() noexcept { return segment_; }
    OiebView oieb() const noexcept { return oieb_; }

    // ---- reading thread
    void claim_role() noexcept {
        const auto me = this_thread_id();
        if (role_.load(std::memory_order_relaxed) != me) role_.store(me, std::memory_order_relaxed);
    }
    // A frame of `wire_bytes` (16 + n) handed out: its slot, and one reference for its Frame.
    ReleaseSlot* push_frame(std::uint64_t wire_bytes) {
        if (credits_ == 0) take_credits();
        --credits_;
        consumed_ += wire_bytes;
        return fifo_.push(wire_bytes, false);
    }
    // Wrap waste consumed: returned in ring order with the frames around it.
    void push_waste(std::uint64_t bytes) { consume(bytes, true); }
    // The cursor after the last unit consumed, published at the next drain.
    void set_cursor(std::uint64_t read_pos, std::uint64_t read_count) noexcept {
        read_pos_.store(read_pos, std::memory_order_relaxed);
        read_count_.store(read_count, std::memory_order_relaxed);
    }
    // The write position the reading thread saw last: how much it knows to be unread.
    void set_known_write_pos(std::uint64_t write_pos) noexcept { known_write_pos_.store(write_pos, std::memory_order_relaxed); }
    // Bytes consumed and not yet returned (held frames, pending batches).
    std::uint64_t unreturned_bytes() const noexcept {
        // acquire: pairs with the release store in drain(), so the free bytes read after this
        // include what was returned (a momentary double count errs towards "not full").
        return consumed_ - returned_.load(std::memory_order_acquire);
    }
    bool batch_due() const noexcept { return consumed_ - drained_at_ >= batch_; }
    void drain_batch() noexcept {
        drained_at_ = consumed_;
        drain();
    }

    // ---- any thread
    void release(ReleaseSlot* slot) noexcept {
        ReleaseFifo::mark(slot);
        // Any other thread returns the space now. The reading thread batches it while, as far as
        // it knows (held + unread bytes, no shared-memory access), at least half the ring is free.
        if (role_.load(std::memory_order_relaxed) != this_thread_id() || !mostly_free()) drain();
        unref(1);
    }
    // Returns everything releasable at the front (publishing positions first). Never throws.
    void drain() noexcept;
    std::uint64_t outstanding_frames() const;

    // A reader-owned field found changed by someone else at a drain, reported once.
    struct Tampering {
        const char* field = nullptr;
        std::uint64_t found = 0;
        std::uint64_t expected = 0;
    };
    std::optional<Tampering> take_tampering() noexcept;

    // The Reader lets go: no reading thread from now on; drops the Reader's reference (and its
    // unused frame credits). The queue deletes itself with its last reference.
    void retire() noexcept;
    // The segment was truncated under us: from now on drains touch nothing in shared memory
    // (the pages are gone; touching them raises SIGBUS).
    void abandon_segment() noexcept { lost_.store(true, std::memory_order_relaxed); }

private:
    ~ReleaseQueue() = default;
    void consume(std::uint64_t bytes, bool released);
    static std::thread::id this_thread_id() noexcept {
        static thread_local const std::thread::id id = std::this_thread::get_id();
        return id;
    }
    // Held (consumed, not returned) plus known unread bytes are at most half the ring. Read by
    // the reading thread only (the mirrors are its own); other threads always drain.
    bool mostly_free() const noexcept {
        const std::uint64_t pos = read_pos_.load(std::memory_order_relaxed);
        const std::uint64_t wp = known_write_pos_.load(std::memory_order_relaxed);
        const std::uint64_t unread = wp >= pos ? wp - pos : ring_size_ - pos + wp;
        return strict_ == false && unreturned_bytes() + unread <= ring_size_ / 2;
    }
    void take_credits();
    void unref(std::uint64_t n) noexcept {
        // acq_rel: every use of the queue by a releasing thread happens before its deletion.
        if (refs_.fetch_sub(n, std::memory_order_acq_rel) == n) destroy();
    }
    void destroy() noexcept;
    void note_tampering(const char* field, std::uint64_t found, std::uint64_t expected) noexcept;

    posix::SharedMemory segment_;
    posix::NamedSemaphore sem_read_;
    OiebView oieb_;
    ReleaseFifo fifo_;
    const std::uint64_t ring_size_;          // S
    const std::uint64_t batch_;              // return space at least every batch_ bytes consumed
    const bool strict_;                      // every release returns its space at once

    // Reading thread only.
    std::uint64_t consumed_ = 0;             // bytes pushed into the FIFO
    std::uint64_t drained_at_ = 0;           // consumed_ at the last batch drain
    std::uint64_t credits_ = 0;              // references taken ahead for frames

    std::atomic<std::thread::id> role_{};    // the reading thread, or none
    std::atomic<std::uint64_t> read_pos_{0};     // cursor to publish
    std::atomic<std::uint64_t> read_count_{0};
    std::atomic<std::uint64_t> known_write_pos_{0};
    std::atomic<std::uint64_t> returned_{0};     // bytes returned to the writer so far
    std::atomic<std::uint64_t> refs_{1};
    std::atomic<bool> lost_{false};              // abandon_segment()
    mutable std::mutex drain_mutex_;
    std::uint64_t published_pos_ = 0;     // under drain_mutex_; the creator stored 0 in both
    std::uint64_t published_count_ = 0;
    Tampering tampering_;
};

}  // namespace zerobuffer::detail
