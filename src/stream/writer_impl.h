// Writer internals shared by writer.cpp (attach, metadata, health, close, forwarding) and
// writer_write.cpp (placing, waiting, publishing, reservations). Not installed.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/ring.h"
#include "core/oieb_view.h"
#include "core/ring_commit.h"
#include "core/spin_policy.h"
#include "ownership/peer_watch.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/writer.h"

namespace zerobuffer {

class ZEROBUFFER_NO_EXPORT Writer::Impl {
public:
    using Clock = std::chrono::steady_clock;

    Impl(std::string name, const WriterOptions& options);
    ~Impl() { close(); }

    // writer.cpp
    void set_metadata(const void* data, std::size_t size);
    bool is_reader_connected() const;
    BufferHealth health() const;
    void close() noexcept;
    void ensure_open() const {
        if (!open_.load(std::memory_order_relaxed)) [[unlikely]] throw_closed();
    }
    [[noreturn]] void throw_closed() const;
    [[noreturn]] void corrupt(std::string_view what) const;
    // Throws CorruptBufferException if the segment was truncated under us (an fstat; called
    // after a wait slice without a post and in health(), never per frame).
    void check_segment() const;

    // writer_write.cpp. `timeout`: kBlocking waits up to the write timeout and throws
    // BufferFullException; a value >= 0 waits at most that long and reports a full ring instead.
    static constexpr std::chrono::milliseconds kBlocking{-1};
    std::optional<std::uint64_t> write(const void* data, std::size_t size, std::chrono::milliseconds timeout);
    FrameReservation acquire(std::size_t size, std::chrono::milliseconds timeout);
    std::uint64_t commit(FrameReservation& reservation);
    void abandon(FrameReservation& reservation) noexcept;

    const std::string name_;
    WriterOptions options_;
    std::uint64_t pid_ = 0;
    std::uint64_t payload_size_ = 0;   // S and M: copied once from the validated header
    std::uint64_t metadata_size_ = 0;
    std::uint64_t max_frame_ = 0;      // S - 16: the largest frame the ring can ever hold
    std::uint64_t next_sequence_ = protocol::kFirstSequence;
    bool metadata_written_ = false;
    FrameReservation* active_ = nullptr;   // the one pending reservation, if any
    FrameReservation compat_;              // the one behind get_frame_buffer / commit_frame
    std::atomic<bool> open_{false};
    std::atomic<std::uint64_t> frames_written_{0};   // written by the writing thread only
    std::atomic<std::uint64_t> bytes_written_{0};
    std::atomic<std::uint64_t> wraps_{0};
    std::atomic<std::uint64_t> blocked_waits_{0};

private:
    void attach();
    // Refuses a frame that is empty, too large, without data, or while a reservation is pending.
    void check_frame(const void* data, std::size_t size) const {
        if (!open_.load(std::memory_order_relaxed) || active_ != nullptr || size - 1 >= max_frame_ || data == nullptr)
            [[unlikely]] {
            reject_frame(data, size);
        }
    }
    [[noreturn]] void reject_frame(const void* data, std::size_t size) const;
    std::optional<ring::Placement> place(std::uint64_t size, std::chrono::milliseconds timeout);
    std::optional<ring::Placement> reserve(std::uint64_t size, std::chrono::milliseconds timeout);
    void sample_reader();
    bool wait_for_space(std::uint64_t required, std::uint64_t size, Clock::time_point deadline);
    bool refresh_free(std::uint64_t required);
    void publish(const ring::Placement& placement, std::uint64_t size);
    void publish_standalone_wrap();
    void post_frame() noexcept;
    static constexpr int kPostCap = 1 << 20;
    void check_reader(bool probe_now);
    void probe_reader();
    void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    mutable std::mutex state_mutex_;       // close() against health/is_reader_connected
    std::optional<posix::SharedMemory> segment_;
    std::optional<posix::NamedSemaphore> sem_write_;
    std::optional<posix::NamedSemaphore> sem_read_;
    detail::OiebView oieb_;
    std::span<std::byte> ring_;
    std::byte* metadata_base_ = nullptr;
    int fd_ = -1;
    dev_t segment_dev_ = 0;                // identifies the segment for local readers
    ino_t segment_ino_ = 0;

    ring::WriterCursor cursor_;
    std::uint64_t cached_free_ = 0;        // payload_free_bytes as last read minus what we took since
    bool cooperative_reader_ = false;      // the reader holds its liveness lock: a zerobuffer reader
    const char* reader_gone_ = nullptr;    // why the reader was found gone (sticky)
    std::atomic<std::uint64_t> cooperative_reader_pid_{0};
    struct Pending {
        ring::Placement placement;
        std::uint64_t size;
    };
    std::optional<Pending> pending_;
    detail::PeerWatch reader_;
    detail::SpinPolicy spin_;
    // Reader liveness while frames flow: the clock is read every probe_stride_ frames, the
    // reader probed at most once per liveness interval; the stride adapts to the frame rate.
    std::uint64_t probe_countdown_ = 1;
    std::uint64_t probe_stride_ = 1;
    Clock::time_point last_sample_{};
    Clock::time_point last_probe_{};
};

}  // namespace zerobuffer
