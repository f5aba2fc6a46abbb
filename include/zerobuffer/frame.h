// Frame: a zero-copy view of one frame in the payload ring, owned until released.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace zerobuffer {

namespace detail {
class ReleaseQueue;
}

// Move-only. The data stays valid and untouched by the writer until release() or destruction,
// even after the Reader that produced it has been closed or destroyed. Frames may be released
// in any order and from any thread; the space returns to the writer in ring order.
class Frame {
public:
    Frame() noexcept = default;  // an invalid frame (what read_frame returns on timeout)
    Frame(Frame&& other) noexcept;
    Frame& operator=(Frame&& other) noexcept;
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;
    ~Frame();

    bool valid() const noexcept { return queue_ != nullptr; }
    explicit operator bool() const noexcept { return valid(); }

    std::span<const std::byte> data() const noexcept { return {data_, size_}; }
    const std::byte* begin() const noexcept { return data_; }
    const std::byte* end() const noexcept { return data_ + size_; }
    std::size_t size() const noexcept { return size_; }
    std::uint64_t sequence() const noexcept { return sequence_; }

    // Gives the frame's space back to the writer (in ring order). Idempotent; never throws.
    void release() noexcept;

private:
    friend class Reader;
    Frame(std::shared_ptr<detail::ReleaseQueue> queue, std::uint64_t ticket, const std::byte* data,
          std::size_t size, std::uint64_t sequence) noexcept;

    std::shared_ptr<detail::ReleaseQueue> queue_;
    std::uint64_t ticket_ = 0;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t sequence_ = 0;
};

}  // namespace zerobuffer
