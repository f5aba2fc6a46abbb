#include "stream/release_queue.h"

#include "stream/local_readers.h"

#include <algorithm>
#include <utility>

namespace zerobuffer::detail {
namespace {
constexpr std::uint64_t kCreditBatch = 1024;
}  // namespace

ReleaseQueue::ReleaseQueue(posix::SharedMemory segment, posix::NamedSemaphore sem_read, std::uint64_t payload_size,
                           bool strict)
    : segment_(std::move(segment)),
      sem_read_(std::move(sem_read)),
      oieb_(reinterpret_cast<protocol::Oieb*>(segment_.data())),
      ring_size_(payload_size),
      batch_(std::max<std::uint64_t>(payload_size / 8, 1)),
      strict_(strict) {
    const posix::FileInfo info = segment_.info();
    register_local_reader(info.dev, info.ino, this);
}

void ReleaseQueue::consume(std::uint64_t bytes, bool released) {
    fifo_.push(bytes, released);
    consumed_ += bytes;
}

void ReleaseQueue::take_credits() {
    refs_.fetch_add(kCreditBatch, std::memory_order_relaxed);  // the Reader's own reference keeps us alive here
    credits_ = kCreditBatch;
}

void ReleaseQueue::drain() noexcept {
    if (lost_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(drain_mutex_);
    std::uint64_t slots = 0;
    const std::uint64_t bytes = fifo_.pop_released(slots);
    // Publish the reader's progress before the space behind it (a Python writer decides where
    // to wrap from payload_read_pos once it sees the space).
    const std::uint64_t pos = read_pos_.load(std::memory_order_relaxed);
    const std::uint64_t count = read_count_.load(std::memory_order_relaxed);
    // Only we write these fields: a value other than the one we left there is tampering, kept
    // for the reading thread to report (this may run in a Frame's release, which cannot throw).
    if (oieb_.read_pos() != published_pos_) note_tampering("payload_read_pos", oieb_.read_pos(), published_pos_);
    if (oieb_.read_count() != published_count_) note_tampering("payload_read_count", oieb_.read_count(), published_count_);
    if (pos != published_pos_) {
        oieb_.set_read_pos(pos);
        published_pos_ = pos;
    }
    if (count != published_count_) {
        oieb_.set_read_count(count);
        published_count_ = count;
    }
    if (bytes == 0) return;
    oieb_.return_free(bytes);
    returned_.store(returned_.load(std::memory_order_relaxed) + bytes, std::memory_order_release);
    sem_read_.post();  // a hint; the writer re-checks payload_free_bytes
}

void ReleaseQueue::note_tampering(const char* field, std::uint64_t found, std::uint64_t expected) noexcept {
    if (tampering_.field == nullptr) tampering_ = {field, found, expected};
}

std::optional<ReleaseQueue::Tampering> ReleaseQueue::take_tampering() noexcept {
    std::lock_guard lock(drain_mutex_);
    if (tampering_.field == nullptr) return std::nullopt;
    return std::exchange(tampering_, Tampering{});
}

std::uint64_t ReleaseQueue::outstanding_frames() const {
    std::lock_guard lock(drain_mutex_);
    return fifo_.count_unreleased();
}

void ReleaseQueue::retire() noexcept {
    unregister_local_reader(this);
    role_.store(std::thread::id{}, std::memory_order_relaxed);
    drain();
    unref(credits_ + 1);
}

void ReleaseQueue::destroy() noexcept { delete this; }

}  // namespace zerobuffer::detail
