// The reader's release FIFO (docs/protocol.md §3.5). payload_free_bytes counts bytes, not
// positions, so space must go back to the writer in ring order even when the application
// releases frames in another order or from other threads. Every unit the reader consumes
// (a frame, or the waste of a wrap) gets a slot here, in ring order; a release only marks its
// slot, and whoever drains pops marked slots from the front and returns their bytes.
//
// Threads: push() is called by the reading thread only. mark() by any thread, lock-free.
// pop_released() by one thread at a time (the caller serialises drains). Slots live in
// fixed-size chunks that never move, so a Frame can keep a pointer to its slot; emptied chunks
// are recycled, so the steady state allocates nothing. No OS calls.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace zerobuffer::detail {

// One unit of the ring consumed by the reader: its size on the ring and whether it is released.
struct ReleaseSlot {
    std::atomic<std::uint8_t> released{0};
    std::uint64_t bytes = 0;
};

class ReleaseFifo {
public:
    using Slot = ReleaseSlot;

    ReleaseFifo();
    ~ReleaseFifo();
    ReleaseFifo(const ReleaseFifo&) = delete;
    ReleaseFifo& operator=(const ReleaseFifo&) = delete;

    // Reading thread: appends a slot of `bytes` ring bytes; `released` for wrap waste, which
    // has no frame to wait for. May allocate a chunk when all are in use.
    Slot* push(std::uint64_t bytes, bool released) {
        if (tail_index_ == kChunkSlots) next_chunk();
        Slot* slot = &tail_chunk_->slots[tail_index_++];
        slot->bytes = bytes;
        slot->released.store(released ? 1 : 0, std::memory_order_relaxed);
        // release: pairs with the acquire load in pop_released; the slot above is complete.
        pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        return slot;
    }

    // Any thread: marks the slot released. release: the reader is done with the frame's bytes.
    static void mark(Slot* slot) noexcept { slot->released.store(1, std::memory_order_release); }

    // One thread at a time: pops the released slots at the front; returns their bytes and
    // counts them in `slots_popped`.
    std::uint64_t pop_released(std::uint64_t& slots_popped) noexcept;

    // Slots pushed and not released yet, counted from the front (the caller serialises it with
    // pop_released). For reports: it walks the FIFO.
    std::uint64_t count_unreleased() const noexcept;

    // Slots pushed and not popped yet (any thread; a snapshot).
    std::uint64_t size() const noexcept {
        return pushed_.load(std::memory_order_acquire) - popped_.load(std::memory_order_acquire);
    }

private:
    static constexpr std::size_t kChunkSlots = 256;
    struct Chunk {
        Slot slots[kChunkSlots];
        std::atomic<Chunk*> next{nullptr};
    };

    Chunk* take_chunk();
    void next_chunk();
    void recycle(Chunk* chunk) noexcept;

    // Producer side (reading thread).
    Chunk* tail_chunk_;
    std::size_t tail_index_ = 0;
    std::atomic<std::uint64_t> pushed_{0};   // release: publishes the slot written before it

    // Consumer side (the current drainer).
    Chunk* head_chunk_;
    std::size_t head_index_ = 0;
    std::atomic<std::uint64_t> popped_{0};

    // Emptied chunks, shared by both sides; touched once per kChunkSlots slots.
    std::mutex spare_mutex_;
    Chunk* spare_ = nullptr;
};

}  // namespace zerobuffer::detail
