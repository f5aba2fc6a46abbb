// Holders for frames lent to ZeroMQ (zero-copy sending): a frame stays in shared memory until
// ZeroMQ calls the free callback of its message, which releases it and returns the holder.
// Holders live in chunks that never move and are reused, so sending allocates nothing of ours
// per frame (the pool grows by a chunk only when every holder is out). Internal.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "zerobuffer/frame.h"

namespace zerobuffer::bridge::detail {

class FramePool {
public:
    struct Slot {
        Frame frame;
        Slot* next = nullptr;
        FramePool* pool = nullptr;
    };

    FramePool() = default;
    ~FramePool();  // only once no callback can come any more (after the ZeroMQ context is gone)
    FramePool(const FramePool&) = delete;
    FramePool& operator=(const FramePool&) = delete;

    // Sending thread only. Takes the frame; returns the holder to pass as the callback's hint.
    [[nodiscard]] Slot* lend(Frame&& frame);
    // zmq_free_fn: releases the frame and returns its holder. Any thread (ZeroMQ's I/O thread).
    static void give_back(void* data, void* hint) noexcept;

    [[nodiscard]] std::size_t outstanding() const noexcept { return outstanding_.load(std::memory_order_relaxed); }

private:
    void grow();

    std::atomic<Slot*> free_{nullptr};           // pushed by any thread, popped by the sending thread only
    std::atomic<std::size_t> outstanding_{0};
    std::vector<std::unique_ptr<Slot[]>> chunks_;
};

}  // namespace zerobuffer::bridge::detail
