#include "core/release_fifo.h"

namespace zerobuffer::detail {

// One spare chunk from the start: a reader that keeps fewer than a chunk's worth of units
// outstanding alternates between two chunks and never allocates after construction.
ReleaseFifo::ReleaseFifo() : tail_chunk_(new Chunk), head_chunk_(tail_chunk_), spare_(new Chunk) {}

ReleaseFifo::~ReleaseFifo() {
    // Every chunk is reachable from the head (the live chain) or from the spare list.
    for (Chunk* c = head_chunk_; c != nullptr;) {
        Chunk* next = c->next.load(std::memory_order_relaxed);
        delete c;
        c = next;
    }
    for (Chunk* c = spare_; c != nullptr;) {
        Chunk* next = c->next.load(std::memory_order_relaxed);
        delete c;
        c = next;
    }
}

ReleaseFifo::Chunk* ReleaseFifo::take_chunk() {
    {
        std::lock_guard lock(spare_mutex_);
        if (spare_ != nullptr) {
            Chunk* c = spare_;
            spare_ = c->next.load(std::memory_order_relaxed);
            c->next.store(nullptr, std::memory_order_relaxed);
            return c;
        }
    }
    return new Chunk;
}

void ReleaseFifo::recycle(Chunk* chunk) noexcept {
    std::lock_guard lock(spare_mutex_);
    chunk->next.store(spare_, std::memory_order_relaxed);
    spare_ = chunk;
}

void ReleaseFifo::next_chunk() {
    Chunk* fresh = take_chunk();
    // release: the drainer that follows `next` sees an initialised chunk.
    tail_chunk_->next.store(fresh, std::memory_order_release);
    tail_chunk_ = fresh;
    tail_index_ = 0;
}

std::uint64_t ReleaseFifo::pop_released(std::uint64_t& slots_popped) noexcept {
    std::uint64_t bytes = 0;
    std::uint64_t popped = popped_.load(std::memory_order_relaxed);
    const std::uint64_t pushed = pushed_.load(std::memory_order_acquire);
    while (popped != pushed) {
        if (head_index_ == kChunkSlots) {
            // The producer linked the next chunk before publishing a slot in it.
            Chunk* next = head_chunk_->next.load(std::memory_order_acquire);
            recycle(head_chunk_);
            head_chunk_ = next;
            head_index_ = 0;
        }
        Slot& slot = head_chunk_->slots[head_index_];
        // acquire: pairs with mark(); the frame's reader is done before its space returns.
        if (slot.released.load(std::memory_order_acquire) == 0) break;
        bytes += slot.bytes;
        ++head_index_;
        ++popped;
        ++slots_popped;
    }
    popped_.store(popped, std::memory_order_release);
    return bytes;
}

std::uint64_t ReleaseFifo::count_unreleased() const noexcept {
    std::uint64_t count = 0;
    const Chunk* chunk = head_chunk_;
    std::size_t index = head_index_;
    const std::uint64_t pushed = pushed_.load(std::memory_order_acquire);
    for (std::uint64_t at = popped_.load(std::memory_order_relaxed); at != pushed; ++at) {
        if (index == kChunkSlots) {
            chunk = chunk->next.load(std::memory_order_acquire);
            index = 0;
        }
        if (chunk->slots[index].released.load(std::memory_order_acquire) == 0) ++count;
        ++index;
    }
    return count;
}

}  // namespace zerobuffer::detail
