#include "core/release_queue.h"

#include <utility>

namespace zerobuffer::detail {

ReleaseQueue::ReleaseQueue(posix::SharedMemory shm, posix::NamedSemaphore sem_read)
    : shm_(std::move(shm)), sem_read_(std::move(sem_read)), entries_(64) {}

void ReleaseQueue::grow() {
    std::vector<Entry> bigger(entries_.size() * 2);
    const std::uint64_t mask = entries_.size() - 1;
    for (std::uint64_t t = head_; t != tail_; ++t) bigger[t & (bigger.size() - 1)] = entries_[t & mask];
    entries_.swap(bigger);
}

std::uint64_t ReleaseQueue::push_frame(std::uint64_t wire_bytes) {
    std::lock_guard lock(mutex_);
    if (tail_ - head_ == entries_.size()) grow();  // amortised: no allocation in steady state
    const std::uint64_t ticket = tail_++;
    entries_[ticket & (entries_.size() - 1)] = {wire_bytes, false};
    ++frames_outstanding_;
    return ticket;
}

void ReleaseQueue::push_waste(std::uint64_t bytes) {
    if (bytes == 0) return;
    std::uint64_t returned = 0;
    {
        std::lock_guard lock(mutex_);
        if (head_ == tail_) {
            returned = bytes;  // nothing outstanding before it: return at once
        } else {
            if (tail_ - head_ == entries_.size()) grow();
            entries_[tail_++ & (entries_.size() - 1)] = {bytes, true};
        }
    }
    if (returned != 0) {
        oieb().add_free(returned);
        sem_read_.post();  // a writer waiting for a standalone wrap to be passed wakes now
    }
}

void ReleaseQueue::drain_front_locked(std::uint64_t& bytes) noexcept {
    const std::uint64_t mask = entries_.size() - 1;
    while (head_ != tail_ && entries_[head_ & mask].released) {
        bytes += entries_[head_ & mask].bytes;
        ++head_;
    }
}

void ReleaseQueue::release(std::uint64_t ticket) noexcept {
    std::uint64_t bytes = 0;
    {
        std::lock_guard lock(mutex_);
        if (ticket < head_ || ticket >= tail_) return;
        Entry& entry = entries_[ticket & (entries_.size() - 1)];
        if (entry.released) return;
        entry.released = true;
        --frames_outstanding_;
        if (ticket == head_) drain_front_locked(bytes);
    }
    if (bytes != 0) {
        oieb().add_free(bytes);  // release: we are done reading these frames
        sem_read_.post();        // a hint; the writer re-checks payload_free_bytes
    }
}

std::uint64_t ReleaseQueue::outstanding_frames() const {
    std::lock_guard lock(mutex_);
    return frames_outstanding_;
}

}  // namespace zerobuffer::detail
