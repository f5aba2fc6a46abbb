#include "bridge/frame_pool.h"

#include <utility>

namespace zerobuffer::bridge::detail {
namespace {
constexpr std::size_t kChunk = 256;
}

FramePool::~FramePool() = default;

void FramePool::grow() {
    auto chunk = std::make_unique<Slot[]>(kChunk);
    for (std::size_t i = 0; i < kChunk; ++i) {
        Slot* slot = &chunk[i];
        slot->pool = this;
        slot->next = free_.load(std::memory_order_relaxed);
        while (!free_.compare_exchange_weak(slot->next, slot, std::memory_order_release, std::memory_order_relaxed)) {
        }
    }
    chunks_.push_back(std::move(chunk));
}

FramePool::Slot* FramePool::lend(Frame&& frame) {
    // One popper (this thread): a head that is still `slot` at the exchange was never taken, so
    // its `next` is current (no ABA).
    Slot* slot = free_.load(std::memory_order_acquire);
    for (;;) {
        if (slot == nullptr) {
            grow();
            slot = free_.load(std::memory_order_acquire);
            continue;
        }
        if (free_.compare_exchange_weak(slot, slot->next, std::memory_order_acquire, std::memory_order_acquire)) break;
    }
    slot->frame = std::move(frame);
    outstanding_.fetch_add(1, std::memory_order_relaxed);
    return slot;
}

void FramePool::give_back(void* /*data*/, void* hint) noexcept {
    auto* slot = static_cast<Slot*>(hint);
    FramePool* pool = slot->pool;
    slot->frame.release();
    slot->frame = Frame();
    pool->outstanding_.fetch_sub(1, std::memory_order_relaxed);
    slot->next = pool->free_.load(std::memory_order_relaxed);
    while (!pool->free_.compare_exchange_weak(slot->next, slot, std::memory_order_release, std::memory_order_relaxed)) {
    }
}

}  // namespace zerobuffer::bridge::detail
