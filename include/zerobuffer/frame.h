// Frame: a zero-copy view of one frame in the payload ring, owned until released.
#pragma once

#include "zerobuffer/export.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace zerobuffer {

namespace detail {
class ReleaseQueue;
struct ReleaseSlot;
struct FrameAccess;
}  // namespace detail

// Move-only. The data stays valid and untouched by the writer until release() or destruction,
// even after the Reader that produced it has been closed or destroyed. Frames may be released
// in any order and from any thread; the space returns to the writer in ring order (see
// Reader::read_frame for when). All members are noexcept.
class ZEROBUFFER_API Frame {
public:
    Frame() noexcept = default;  // an invalid frame (what a read that found nothing returns)
    Frame(Frame&& other) noexcept;
    Frame& operator=(Frame&& other) noexcept;
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;
    ~Frame();

    [[nodiscard]] bool valid() const noexcept { return queue_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    // Empty once released.
    [[nodiscard]] std::span<const std::byte> data() const noexcept { return {data_, size_}; }
    const std::byte* begin() const noexcept { return data_; }
    const std::byte* end() const noexcept { return data_ + size_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }

    // Gives the frame's space back to the writer (in ring order). Idempotent; never throws.
    void release() noexcept;

private:
    friend struct detail::FrameAccess;
    Frame(detail::ReleaseQueue* queue, detail::ReleaseSlot* slot, const std::byte* data, std::size_t size,
          std::uint64_t sequence) noexcept
        : queue_(queue), slot_(slot), data_(data), size_(size), sequence_(sequence) {}

    detail::ReleaseQueue* queue_ = nullptr;  // holds a reference on the queue until released
    detail::ReleaseSlot* slot_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t sequence_ = 0;
};

}  // namespace zerobuffer
