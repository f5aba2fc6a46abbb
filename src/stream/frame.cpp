#include "zerobuffer/frame.h"

#include <utility>

#include "stream/release_queue.h"

namespace zerobuffer {

Frame::Frame(Frame&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)),
      slot_(std::exchange(other.slot_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      sequence_(std::exchange(other.sequence_, 0)) {}

Frame& Frame::operator=(Frame&& other) noexcept {
    if (this != &other) {
        release();
        queue_ = std::exchange(other.queue_, nullptr);
        slot_ = std::exchange(other.slot_, nullptr);
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        sequence_ = std::exchange(other.sequence_, 0);
    }
    return *this;
}

Frame::~Frame() { release(); }

void Frame::release() noexcept {
    if (queue_ != nullptr) {
        detail::ReleaseQueue* queue = std::exchange(queue_, nullptr);
        data_ = nullptr;
        size_ = 0;
        queue->release(std::exchange(slot_, nullptr));  // may delete the queue: touch nothing after
    }
}

}  // namespace zerobuffer
