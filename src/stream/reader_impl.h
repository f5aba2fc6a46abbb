// Reader internals shared by reader.cpp (creation, metadata, health, close) and reader_read.cpp
// (finding frames, waiting, liveness). Not installed.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "core/ring_consume.h"
#include "core/spin_policy.h"
#include "ownership/peer_watch.h"
#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "stream/release_queue.h"
#include "zerobuffer/reader.h"

namespace zerobuffer {

class Reader::Impl {
public:
    using Clock = std::chrono::steady_clock;

    Impl(std::string name, const BufferConfig& config, const ReaderOptions& options);
    ~Impl() { close(); }

    // reader_read.cpp
    Frame read_frame(std::chrono::milliseconds timeout);
    Frame try_read_frame();

    // reader.cpp
    std::span<const std::byte> metadata() const;
    bool is_writer_connected() const;
    BufferHealth health() const;
    void close() noexcept;
    void ensure_open() const;
    [[noreturn]] void corrupt(std::string_view what) const;
    // Throws CorruptBufferException if the segment was truncated under us (an fstat; called
    // where the reader waits anyway and in health(), never per frame).
    void check_segment() const;

    const std::string name_;
    const BufferConfig config_;
    const ReaderOptions options_;
    // PeerMode::foreign: the protocol step by step (positions published after every unit, space
    // returned at every release), as the Python and C# readers do.
    const bool strict_;
    std::uint64_t payload_size_ = 0;    // S: our own copy; bounds never come from shared memory
    std::uint64_t metadata_size_ = 0;   // M
    std::uint64_t pid_ = 0;
    std::atomic<bool> open_{false};
    std::atomic<std::uint64_t> frames_read_{0};   // written by the reading thread only
    std::atomic<std::uint64_t> bytes_read_{0};
    std::atomic<std::uint64_t> wraps_{0};
    std::atomic<std::uint64_t> blocked_waits_{0};
    // The PID of the current writer if it holds the writer liveness lock (set by the reading
    // thread, read by is_writer_connected on any thread): then the lock alone decides.
    std::atomic<std::uint64_t> cooperative_writer_{0};

private:
    // reader_read.cpp
    Frame take();                         // the next published frame, if any (mode-specific)
    Frame take_by_position();
    Frame take_by_post();
    Frame take_unposted();                // posts mode: a frame whose post went missing
    bool published_now();
    Frame apply(const ring::Unit& unit);  // consumes one unit; a frame for frame units
    Frame wait_for_frame(Clock::time_point deadline);
    void verify_fields() const;
    bool spin_for_frame(Clock::time_point deadline, Frame& frame);
    void check_writer_or_throw(Frame& frame);
    void note_writer(std::uint64_t sequence);
    void count(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
        counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    mutable std::mutex state_mutex_;      // close() against health/is_writer_connected
    std::optional<posix::LockFile> lock_;
    std::optional<posix::NamedSemaphore> sem_write_;
    detail::ReleaseQueue* queue_ = nullptr;     // shared with the frames; we hold one reference
    detail::OiebView oieb_;
    std::span<const std::byte> ring_;
    const std::byte* metadata_base_ = nullptr;
    int fd_ = -1;                               // the segment's descriptor (liveness locks)

    bool by_position_ = true;                   // FrameDiscovery resolved
    ring::ReaderCursor cursor_;
    std::uint64_t cached_write_pos_ = 0;        // units in [read_pos, this) are published
    bool posted_ = false;                       // posts mode: a post was taken for the next frame
    std::uint64_t expected_sequence_ = protocol::kFirstSequence;
    std::uint64_t writer_check_countdown_ = 0;  // frames until the next look at writer_pid
    detail::PeerWatch writer_;
    detail::SpinPolicy spin_;
};

}  // namespace zerobuffer
