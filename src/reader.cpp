#include "zerobuffer/reader.h"

#include <atomic>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/health_snapshot.h"
#include "core/liveness.h"
#include "core/log.h"
#include "core/names.h"
#include "core/oieb_view.h"
#include "core/release_queue.h"
#include "core/ring.h"
#include "core/spin.h"
#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/process.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

using Clock = std::chrono::steady_clock;
using detail::PeerWatch;

class Reader::Impl {
public:
    Impl(std::string name, const BufferConfig& config);
    ~Impl() { close(); }

    Frame read_frame(std::chrono::milliseconds timeout);
    std::span<const std::byte> metadata() const;
    bool is_writer_connected() const;
    BufferHealth health() const;
    void close() noexcept;
    void ensure_open() const {
        if (!open_) throw ObjectClosedException(fmt::format("reader of buffer '{}' is closed", name_));
    }

    std::string name_;
    BufferConfig config_;
    protocol::Layout layout_{};
    std::uint64_t payload_size_ = 0;   // S, our own copy: bounds never come from shared memory
    std::optional<posix::LockFile> lock_;
    std::shared_ptr<detail::ReleaseQueue> queue_;
    std::optional<posix::NamedSemaphore> sem_write_;
    detail::OiebView oieb_{nullptr};
    std::byte* metadata_base_ = nullptr;
    std::byte* payload_ = nullptr;
    std::uint64_t pid_ = 0;

    // Reader-owned positions, mirrored into the OIEB.
    std::uint64_t read_pos_ = 0;
    std::uint64_t read_count_ = 0;
    std::uint64_t expected_sequence_ = protocol::kFirstSequence;

    PeerWatch writer_;
    bool open_ = false;

    std::atomic<std::uint64_t> frames_read_{0};
    std::atomic<std::uint64_t> bytes_read_{0};
    std::atomic<std::uint64_t> wraps_{0};
    std::atomic<std::uint64_t> blocked_waits_{0};

private:
    void create();
    bool wait_for_post(Clock::time_point deadline);
    void check_writer_or_throw();
    bool unposted_frame_ready() const;
    void verify_header_fields() const;
    [[noreturn]] void corrupt(std::string_view what) const;
};

namespace {

// reader_pid of an existing segment NAME, 0 if there is none or it is too small.
std::uint64_t segment_reader_pid(const std::string& name) {
    const auto existing = posix::SharedMemory::open_existing(name, false);
    if (!existing || existing->size() < protocol::kOiebSize) return 0;
    return detail::OiebView(reinterpret_cast<protocol::Oieb*>(existing->data())).reader_pid();
}

Clock::time_point deadline_after(std::chrono::milliseconds timeout) {
    const auto now = Clock::now();
    const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now);
    return timeout >= room ? Clock::time_point::max() : now + timeout;
}

}  // namespace

Reader::Impl::Impl(std::string name, const BufferConfig& config) : name_(std::move(name)), config_(config) {
    detail::validate_name(name_);
    layout_ = detail::validate_config(name_, config_);
    payload_size_ = layout_.payload_size;
    pid_ = static_cast<std::uint64_t>(posix::current_pid());
    create();
    open_ = true;
    detail::log(LogLevel::info, "reader created buffer '{}' (metadata {} B, payload {} B)", name_,
                layout_.metadata_size, layout_.payload_size);
}

void Reader::Impl::create() {
    // 1. The lock shared with Python readers (and old C++), then a probe of the C# lock path.
    // A reader killed a moment ago can still hold its flock while its threads exit although it
    // already reads as dead: then retry for a short while instead of refusing.
    const auto lock_deadline = Clock::now() + std::chrono::milliseconds(250);
    for (;;) {
        lock_ = posix::LockFile::try_acquire(detail::lock_path(name_), config_.permissions);
        if (lock_) break;
        const std::uint64_t owner = segment_reader_pid(name_);
        if ((owner != 0 && posix::pid_alive(owner)) || Clock::now() >= lock_deadline) {
            throw ReaderAlreadyConnectedException(fmt::format(
                "buffer '{}': another reader (pid {}) holds the lock {}", name_, owner, detail::lock_path(name_)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (posix::LockFile::is_held(detail::csharp_lock_path(name_))) {
        lock_.reset();
        throw ReaderAlreadyConnectedException(fmt::format(
            "buffer '{}': a C# reader holds the lock {}", name_, detail::csharp_lock_path(name_)));
    }

    const std::string sem_w = detail::sem_write_name(name_);
    const std::string sem_r = detail::sem_read_name(name_);
    bool created_shm = false;
    try {
        // 2. The segment, exclusively. 3. If a segment exists: a live reader keeps it; a dead or
        // departed reader's segment is reclaimed (unlinked with its semaphores) once.
        std::optional<posix::SharedMemory> shm;
        for (int attempt = 0; attempt < 2 && !shm; ++attempt) {
            shm = posix::SharedMemory::create_exclusive(name_, layout_.total_size(), config_.permissions,
                                                       config_.prefault);
            if (shm) break;
            const std::uint64_t owner = segment_reader_pid(name_);
            if (owner != 0 && posix::pid_alive(owner)) {
                throw ReaderAlreadyConnectedException(fmt::format(
                    "buffer '{}' is owned by a live reader (pid {}); it was left intact", name_, owner));
            }
            detail::log(LogLevel::info, "reclaiming stale buffer '{}' (reader pid {} is gone)", name_, owner);
            posix::SharedMemory::unlink(name_);
            posix::NamedSemaphore::unlink(sem_w);
            posix::NamedSemaphore::unlink(sem_r);
        }
        if (!shm) {
            throw ReaderAlreadyConnectedException(
                fmt::format("buffer '{}' was re-created by another process while this reader reclaimed it", name_));
        }
        created_shm = true;

        // 4. Semaphores: unlink, then create (tolerates ones leaked by Python readers).
        sem_write_ = posix::NamedSemaphore::create_fresh(sem_w, config_.permissions);
        auto sem_read = posix::NamedSemaphore::create_fresh(sem_r, config_.permissions);

        // 5. The OIEB, with oieb_size stored last: writers refuse the segment until then.
        oieb_ = detail::OiebView(reinterpret_cast<protocol::Oieb*>(shm->data()));
        oieb_.initialise(layout_.metadata_size, layout_.payload_size, pid_);
        metadata_base_ = shm->data() + layout_.metadata_offset();
        payload_ = shm->data() + layout_.payload_offset();
        queue_ = std::make_shared<detail::ReleaseQueue>(std::move(*shm), std::move(sem_read));
        oieb_.publish_oieb_size();

        lock_->write_note(detail::lock_advert(pid_));
    } catch (...) {
        if (created_shm) posix::SharedMemory::unlink(name_);
        posix::NamedSemaphore::unlink(sem_w);
        posix::NamedSemaphore::unlink(sem_r);
        queue_.reset();
        sem_write_.reset();
        lock_.reset();
        throw;
    }
}

void Reader::Impl::corrupt(std::string_view what) const {
    throw CorruptBufferException(fmt::format("buffer '{}' is corrupt: {}", name_, what));
}

// Fields that only we (or nobody) write. Cheap: one cache line, read once per frame.
void Reader::Impl::verify_header_fields() const {
    const protocol::Oieb* o = oieb_.raw();
    if (oieb_.oieb_size() != protocol::kOiebSize) corrupt(fmt::format("oieb_size is {}, expected 128", o->oieb_size));
    if (oieb_.payload_size() != layout_.payload_size) {
        corrupt(fmt::format("payload_size is {}, expected {}", oieb_.payload_size(), layout_.payload_size));
    }
    if (oieb_.metadata_size() != layout_.metadata_size) {
        corrupt(fmt::format("metadata_size is {}, expected {}", oieb_.metadata_size(), layout_.metadata_size));
    }
    if (oieb_.read_pos() != read_pos_) {
        corrupt(fmt::format("payload_read_pos is {}, this reader left it at {}", oieb_.read_pos(), read_pos_));
    }
    if (oieb_.read_count() != read_count_) {
        corrupt(fmt::format("payload_read_count is {}, this reader left it at {}", oieb_.read_count(), read_count_));
    }
    const std::uint64_t free_bytes = oieb_.payload_free_bytes();
    if (free_bytes > payload_size_) {
        corrupt(fmt::format("payload_free_bytes is {}, more than payload_size {}", free_bytes, payload_size_));
    }
    const std::uint64_t write_pos = oieb_.write_pos();
    if (write_pos > payload_size_) {
        corrupt(fmt::format("payload_write_pos is {}, beyond payload_size {}", write_pos, payload_size_));
    }
}

// Throws WriterDeadException if a writer had connected and is now gone or dead.
void Reader::Impl::check_writer_or_throw() {
    const std::uint64_t pid = oieb_.writer_pid();
    const auto status = writer_.check(pid);
    if (status == PeerWatch::Status::alive) return;
    if (status == PeerWatch::Status::absent && !writer_.ever_seen()) return;  // nobody connected yet
    if (status == PeerWatch::Status::dead && !writer_.ever_seen()) {
        writer_.mark_seen();  // a writer existed (its PID is in the OIEB) and died
    }
    if (status == PeerWatch::Status::absent) {
        throw WriterDeadException(fmt::format("buffer '{}': the writer disconnected and no frame is left", name_));
    }
    throw WriterDeadException(fmt::format("buffer '{}': the writer process (pid {}) died", name_, pid));
}

// A writer killed between counting a frame (written_count, release) and posting sem-w leaves a
// complete frame behind. It is taken only if its header carries exactly the sequence we expect:
// a count alone can be a Python writer's phantom wrap count with stale bytes behind it.
bool Reader::Impl::unposted_frame_ready() const {
    if (oieb_.written_count() <= read_count_) return false;
    const std::uint64_t S = payload_size_;
    std::uint64_t rp = ring::needs_implicit_wrap(S, read_pos_) ? 0 : read_pos_;
    protocol::FrameHeader header;
    std::memcpy(&header, payload_ + rp, sizeof header);
    auto check = ring::classify_header(S, rp, header);
    if (check.kind == ring::HeaderKind::wrap_marker) {
        rp = 0;
        std::memcpy(&header, payload_, sizeof header);
        check = ring::classify_header(S, rp, header);
    }
    return check.kind == ring::HeaderKind::frame && header.sequence_number == expected_sequence_;
}

// Takes one sem-w count before `deadline`: spin, then sleep in liveness slices.
bool Reader::Impl::wait_for_post(Clock::time_point deadline) {
    if (sem_write_->try_wait()) return true;
    if (config_.wait.spin.count() > 0) {
        const auto spin_end = std::min(deadline, Clock::now() + config_.wait.spin);
        if (detail::spin_until(spin_end, [&] { return sem_write_->try_wait(); })) return true;
    }
    for (;;) {
        const auto now = Clock::now();
        const bool last_slice = now >= deadline;
        if (!last_slice) {
            const auto slice_end = std::min(deadline, now + config_.wait.liveness_interval);
            blocked_waits_.fetch_add(1, std::memory_order_relaxed);
            if (sem_write_->wait_until(slice_end)) return true;
        }
        try {
            check_writer_or_throw();
        } catch (const WriterDeadException&) {
            // A last frame posted as it left, or counted but never posted (killed in between).
            if (sem_write_->try_wait() || unposted_frame_ready()) return true;
            throw;
        }
        if (last_slice) return sem_write_->try_wait();
    }
}

Frame Reader::Impl::read_frame(std::chrono::milliseconds timeout) {
    ensure_open();
    detail::validate_timeout(name_, timeout, "read timeout");
    const auto deadline = deadline_after(timeout);
    const std::uint64_t S = payload_size_;

    for (;;) {
        if (!wait_for_post(deadline)) return Frame{};
        verify_header_fields();
        // The OIEB counters are the truth: a post with nothing behind it is ignored.
        if (oieb_.written_count() <= read_count_) continue;
        writer_.mark_seen();

        if (ring::needs_implicit_wrap(S, read_pos_)) {
            // The writer wrapped without a marker (tail of 1..15 bytes). Not counted: writers
            // that wrap this way do not count it either.
            queue_->push_waste(S - read_pos_);
            read_pos_ = 0;
            oieb_.set_read_pos(0);
        }

        protocol::FrameHeader header;
        std::memcpy(&header, payload_ + read_pos_, sizeof header);
        auto check = ring::classify_header(S, read_pos_, header);
        if (check.kind == ring::HeaderKind::wrap_marker || check.kind == ring::HeaderKind::standalone_wrap) {
            queue_->push_waste(S - read_pos_);
            read_pos_ = 0;
            ++read_count_;
            oieb_.set_read_pos(0);
            oieb_.set_read_count(read_count_);
            wraps_.fetch_add(1, std::memory_order_relaxed);
            if (check.kind == ring::HeaderKind::standalone_wrap) continue;  // its own post; no frame behind it
            std::memcpy(&header, payload_, sizeof header);
            check = ring::classify_header(S, 0, header);
            if (check.kind != ring::HeaderKind::frame && check.kind != ring::HeaderKind::corrupt) {
                corrupt("a wrap marker is followed by another wrap marker at offset 0");
            }
        }
        if (check.kind == ring::HeaderKind::corrupt) {
            corrupt(fmt::format("{} (offset {}, payload_size {}, sequence_number {}, ring size {})", check.problem,
                                read_pos_, header.payload_size, header.sequence_number, S));
        }

        // A frame. Consume it before any sequence complaint, so the stream can go on.
        const std::uint64_t offset = read_pos_;
        const std::uint64_t wire = ring::wire_size(header.payload_size);
        const std::uint64_t ticket = queue_->push_frame(wire);
        read_pos_ = ring::advance(S, offset, wire);
        ++read_count_;
        oieb_.set_read_pos(read_pos_);
        oieb_.set_read_count(read_count_);
        Frame frame(queue_, ticket, payload_ + offset + protocol::kFrameHeaderSize,
                    static_cast<std::size_t>(header.payload_size), header.sequence_number);

        if (header.sequence_number != expected_sequence_) {
            // Every writer starts at 1, and a writer may be replaced between two reads without
            // the reader ever seeing writer_pid change (same process, or 0 at both reads): a 1
            // is a restart, anything else out of order is an error.
            const bool restart = header.sequence_number == protocol::kFirstSequence;
            if (config_.verify_sequence && !restart) {
                const std::uint64_t expected = expected_sequence_;
                expected_sequence_ = header.sequence_number + 1;
                throw SequenceError(name_, expected, header.sequence_number);
            }
        }
        expected_sequence_ = header.sequence_number + 1;
        frames_read_.fetch_add(1, std::memory_order_relaxed);
        bytes_read_.fetch_add(header.payload_size, std::memory_order_relaxed);
        return frame;
    }
}

std::span<const std::byte> Reader::Impl::metadata() const {
    ensure_open();
    const std::uint64_t written = oieb_.metadata_written_bytes();
    if (written == 0) return {};
    const std::uint64_t M = layout_.metadata_size;
    if (written < protocol::kMetadataPrefixSize || written > M) {
        corrupt(fmt::format("metadata_written_bytes is {}, outside [8, {}]", written, M));
    }
    std::uint64_t length = 0;
    std::memcpy(&length, metadata_base_, sizeof length);
    if (length > written - protocol::kMetadataPrefixSize) {
        corrupt(fmt::format("metadata length prefix is {}, but metadata_written_bytes is {}", length, written));
    }
    return {metadata_base_ + protocol::kMetadataPrefixSize, static_cast<std::size_t>(length)};
}

bool Reader::Impl::is_writer_connected() const {
    if (!open_) return false;
    return posix::pid_alive(oieb_.writer_pid());
}

BufferHealth Reader::Impl::health() const {
    ensure_open();
    BufferHealth h = detail::snapshot_shared_state(oieb_, payload_size_, layout_.metadata_size);
    h.frames = frames_read_.load(std::memory_order_relaxed);
    h.bytes = bytes_read_.load(std::memory_order_relaxed);
    h.frames_outstanding = queue_->outstanding_frames();
    h.wraps = wraps_.load(std::memory_order_relaxed);
    h.blocked_waits = blocked_waits_.load(std::memory_order_relaxed);
    return h;
}

void Reader::Impl::close() noexcept {
    if (!open_) return;
    open_ = false;
    oieb_.cas_reader_pid(pid_, 0);
    // We still hold the lock, so the name's objects are ours unless the segment was replaced.
    if (queue_->memory().name_refers_to_this()) {
        posix::SharedMemory::unlink(name_);
        posix::NamedSemaphore::unlink(detail::sem_write_name(name_));
        posix::NamedSemaphore::unlink(detail::sem_read_name(name_));
    }
    sem_write_.reset();
    lock_.reset();   // unlinks the lock file, then unlocks
    queue_.reset();  // the mapping lives on while frames are held
    detail::log(LogLevel::info, "reader closed buffer '{}'", name_);
}

// ---- public forwarding ----

Reader::Reader(std::string name, const BufferConfig& config)
    : impl_(std::make_unique<Impl>(std::move(name), config)) {}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

namespace {
[[noreturn]] void throw_moved_from() { throw ObjectClosedException("reader was moved from"); }
}  // namespace

std::span<const std::byte> Reader::metadata() const {
    if (!impl_) throw_moved_from();
    return impl_->metadata();
}
Frame Reader::read_frame(std::chrono::milliseconds timeout) {
    if (!impl_) throw_moved_from();
    return impl_->read_frame(timeout);
}
bool Reader::is_writer_connected() const { return impl_ && impl_->is_writer_connected(); }
bool Reader::wait_for_writer(std::chrono::milliseconds timeout) const {
    if (!impl_) throw_moved_from();
    detail::validate_timeout(impl_->name_, timeout, "writer wait timeout");
    const auto deadline = deadline_after(timeout);
    for (;;) {
        if (impl_->is_writer_connected()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}
std::uint64_t Reader::frames_read() const noexcept { return impl_ ? impl_->frames_read_.load() : 0; }
std::uint64_t Reader::bytes_read() const noexcept { return impl_ ? impl_->bytes_read_.load() : 0; }
const std::string& Reader::name() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->name_ : empty;
}
const BufferConfig& Reader::config() const noexcept {
    static const BufferConfig none;
    return impl_ ? impl_->config_ : none;
}
BufferHealth Reader::health() const {
    if (!impl_) throw_moved_from();
    return impl_->health();
}
void Reader::close() noexcept {
    if (impl_) impl_->close();
}
bool Reader::is_open() const noexcept { return impl_ && impl_->open_; }

}  // namespace zerobuffer
