#include "zerobuffer/frame.h"

#include <utility>

#include "core/release_queue.h"

namespace zerobuffer {

Frame::Frame(std::shared_ptr<detail::ReleaseQueue> queue, std::uint64_t ticket, const std::byte* data,
             std::size_t size, std::uint64_t sequence) noexcept
    : queue_(std::move(queue)), ticket_(ticket), data_(data), size_(size), sequence_(sequence) {}

Frame::Frame(Frame&& other) noexcept
    : queue_(std::move(other.queue_)),
      ticket_(other.ticket_),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      sequence_(std::exchange(other.sequence_, 0)) {}

Frame& Frame::operator=(Frame&& other) noexcept {
    if (this != &other) {
        release();
        queue_ = std::move(other.queue_);
        ticket_ = other.ticket_;
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        sequence_ = std::exchange(other.sequence_, 0);
    }
    return *this;
}

Frame::~Frame() { release(); }

void Frame::release() noexcept {
    if (queue_) {
        queue_->release(ticket_);
        queue_.reset();
        data_ = nullptr;
        size_ = 0;
    }
}

}  // namespace zerobuffer
