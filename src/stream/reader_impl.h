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

class ZEROBUFFER_NO_EXPORT Reader::Impl {
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
    void ensure_open() const {
        if (!open_.load(std::memory_order_relaxed)) [[unlikely]] throw_closed();
    }
    [[noreturn]] void throw_closed() const;
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
    // reader_read.cpp. take*() consume units up to the next published frame and return true with
    // that frame taken (in taken_); deliver() hands the taken frame out.
    bool take() { return by_position_ ? take_by_position() : take_by_post(); }
    bool take_by_position();
    bool take_by_post();
    bool take_unposted();                 // posts mode: a frame whose post went missing
    bool published_now();
    bool unit_at_read_pos_published(std::uint64_t& write_pos);
    static constexpr int kStalePostLimit = 1 << 24;
    bool apply(const ring::Unit& unit);   // consumes one unit; true for a frame (taken_)
    Frame deliver();
    Frame wait_for_frame(Clock::time_point deadline);
    void verify_fields() const;
    bool check_writer_or_throw();
    // Looks at writer_pid on a writer's first frame and every kWriterCheckEvery frames after it,
    // so that a foreign writer is identified soon after it attached.
    void note_writer(std::uint64_t sequence) {
        if (sequence != protocol::kFirstSequence && --writer_check_countdown_ != 0) [[likely]] return;
        look_at_writer();
    }
    void look_at_writer();
    static constexpr std::uint64_t kWriterCheckEvery = 1024;
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
    struct Taken {
        detail::ReleaseSlot* slot = nullptr;
        std::uint64_t offset = 0;
        std::uint64_t size = 0;
        std::uint64_t sequence = 0;
    } taken_;                                   // the frame take() found, until deliver()
    std::uint64_t expected_sequence_ = protocol::kFirstSequence;
    std::uint64_t writer_check_countdown_ = 1;  // frames until the next look at writer_pid
    detail::PeerWatch writer_;
    detail::SpinPolicy spin_;
};

}  // namespace zerobuffer
