#include "zerobuffer/writer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "core/health_snapshot.h"
#include "core/liveness.h"
#include "core/log.h"
#include "core/names.h"
#include "core/oieb_view.h"
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

class Writer::Impl {
public:
    Impl(std::string name, const WriterOptions& options);
    ~Impl() { close(); }

    void set_metadata(const void* data, std::size_t size);
    std::byte* reserve(std::size_t size);
    std::uint64_t commit();
    void abandon() noexcept { pending_.reset(); }
    bool is_reader_connected() const;
    BufferHealth health() const;
    void close() noexcept;
    void ensure_open() const {
        if (!open_) throw ObjectClosedException(fmt::format("writer of buffer '{}' is closed", name_));
    }

    std::string name_;
    WriterOptions options_;
    std::optional<posix::SharedMemory> shm_;
    std::optional<posix::NamedSemaphore> sem_write_;
    std::optional<posix::NamedSemaphore> sem_read_;
    detail::OiebView oieb_{nullptr};
    std::uint64_t metadata_size_ = 0;   // M and S: copied once, validated against the mapping
    std::uint64_t payload_size_ = 0;
    std::byte* metadata_base_ = nullptr;
    std::byte* payload_ = nullptr;
    std::uint64_t pid_ = 0;

    std::uint64_t write_pos_ = 0;       // writer-owned, mirrored into the OIEB
    std::uint64_t written_count_ = 0;
    std::uint64_t next_sequence_ = protocol::kFirstSequence;
    bool cooperative_reader_ = false;
    bool metadata_written_ = false;

    struct Pending {
        ring::Placement placement;
        std::uint64_t size;
    };
    std::optional<Pending> pending_;

    PeerWatch reader_;
    bool open_ = false;

    std::atomic<std::uint64_t> frames_written_{0};
    std::atomic<std::uint64_t> bytes_written_{0};
    std::atomic<std::uint64_t> wraps_{0};
    std::atomic<std::uint64_t> blocked_waits_{0};

private:
    void attach();
    void check_reader_or_throw(bool force);
    void wait_for_space(std::uint64_t required, Clock::time_point deadline, std::uint64_t frame_bytes);
    [[noreturn]] void corrupt(std::string_view what) const {
        throw CorruptBufferException(fmt::format("buffer '{}' is corrupt or not a ZeroBuffer v1 buffer: {}", name_, what));
    }
};

Writer::Impl::Impl(std::string name, const WriterOptions& options) : name_(std::move(name)), options_(options) {
    detail::validate_name(name_);
    detail::validate_timeout(name_, options_.write_timeout, "write timeout");
    detail::validate_wait(name_, options_.wait);
    pid_ = static_cast<std::uint64_t>(posix::current_pid());
    attach();
    open_ = true;
    detail::log(LogLevel::info, "writer attached to buffer '{}' (reader pid {}, {} reader)", name_, reader_.last_pid(),
                cooperative_reader_ ? "zerobuffer C++" : "foreign");
}

void Writer::Impl::attach() {
    shm_ = posix::SharedMemory::open_existing(name_, options_.prefault);
    if (!shm_) throw BufferNotFoundException(fmt::format("buffer '{}' not found (no shared memory /dev/shm/{})", name_, name_));
    const std::uint64_t mapped = shm_->size();
    if (mapped < protocol::kOiebSize) {
        corrupt(fmt::format("the segment is {} bytes, smaller than the 128-byte OIEB (not initialised yet?)", mapped));
    }
    oieb_ = detail::OiebView(reinterpret_cast<protocol::Oieb*>(shm_->data()));
    // Validate everything before touching anything (contract §2.3); never trust sizes beyond the mapping.
    if (const auto size = oieb_.oieb_size(); size != protocol::kOiebSize) {
        corrupt(fmt::format("oieb_size is {}, expected 128 (not initialised yet?)", size));
    }
    if (const auto major = oieb_.version_major(); major != protocol::kVersionMajor) {
        corrupt(fmt::format("protocol version.major is {}, this library speaks 1", major));
    }
    metadata_size_ = oieb_.metadata_size();
    payload_size_ = oieb_.payload_size();
    if (metadata_size_ % protocol::kBlockAlignment != 0) corrupt(fmt::format("metadata_size {} is not a multiple of 64", metadata_size_));
    if (payload_size_ == 0 || payload_size_ % protocol::kBlockAlignment != 0) {
        corrupt(fmt::format("payload_size {} is not a positive multiple of 64", payload_size_));
    }
    if (metadata_size_ > mapped || payload_size_ > mapped || protocol::kOiebSize + metadata_size_ + payload_size_ > mapped) {
        corrupt(fmt::format("metadata_size {} + payload_size {} + 128 exceed the {}-byte segment", metadata_size_,
                            payload_size_, mapped));
    }
    if (const auto wp = oieb_.write_pos(); wp > payload_size_) {
        corrupt(fmt::format("payload_write_pos {} is beyond payload_size {}", wp, payload_size_));
    }
    if (const auto fb = oieb_.payload_free_bytes(); fb > payload_size_) {
        corrupt(fmt::format("payload_free_bytes {} is more than payload_size {}", fb, payload_size_));
    }
    if (const auto mw = oieb_.metadata_written_bytes(); mw > metadata_size_) {
        corrupt(fmt::format("metadata_written_bytes {} is more than metadata_size {}", mw, metadata_size_));
    }

    const std::uint64_t reader_pid = oieb_.reader_pid();
    if (reader_pid == 0) throw ReaderDeadException(fmt::format("buffer '{}' has no reader (reader_pid is 0)", name_));
    if (reader_.check(reader_pid) != PeerWatch::Status::alive) {
        throw ReaderDeadException(fmt::format("buffer '{}': its reader (pid {}) is not running", name_, reader_pid));
    }

    // Semaphores before claiming writer_pid, so a failure here leaves the OIEB untouched (§6.5).
    sem_write_ = posix::NamedSemaphore::open_existing(detail::sem_write_name(name_));
    if (!sem_write_) throw BufferNotFoundException(fmt::format("buffer '{}': semaphore {} not found", name_, detail::sem_write_name(name_)));
    sem_read_ = posix::NamedSemaphore::open_existing(detail::sem_read_name(name_));
    if (!sem_read_) throw BufferNotFoundException(fmt::format("buffer '{}': semaphore {} not found", name_, detail::sem_read_name(name_)));

    // Claim writer_pid with a CAS from 0 or from a dead writer: a live writer's PID is never touched.
    for (;;) {
        const std::uint64_t current = oieb_.writer_pid();
        if (current != 0 && posix::pid_alive(current)) {
            throw WriterAlreadyConnectedException(
                fmt::format("buffer '{}' already has a live writer (pid {})", name_, current));
        }
        if (oieb_.cas_writer_pid(current, pid_)) break;
    }

    metadata_base_ = shm_->data() + protocol::kOiebSize;
    payload_ = metadata_base_ + metadata_size_;
    write_pos_ = oieb_.write_pos();
    written_count_ = oieb_.written_count();
    metadata_written_ = oieb_.metadata_written_bytes() > 0;
    if (const auto advert = posix::LockFile::read_note(detail::lock_path(name_))) {
        cooperative_reader_ = detail::advert_allows_standalone_wrap(*advert, reader_pid);
    }
}

void Writer::Impl::set_metadata(const void* data, std::size_t size) {
    ensure_open();
    if (size != 0 && data == nullptr) throw InvalidArgumentException(fmt::format("buffer '{}': metadata pointer is null", name_));
    const std::uint64_t existing = oieb_.metadata_written_bytes();
    if (metadata_written_ || existing > 0) {
        throw MetadataAlreadyWrittenException(fmt::format(
            "buffer '{}': metadata has already been written ({} bytes); it is written once per buffer", name_,
            existing >= protocol::kMetadataPrefixSize ? existing - protocol::kMetadataPrefixSize : existing));
    }
    if (size > metadata_size_ || metadata_size_ - size < protocol::kMetadataPrefixSize) {
        throw MetadataTooLargeException(fmt::format(
            "buffer '{}': metadata of {} bytes (+8 length prefix) does not fit the {}-byte metadata block (at most {})",
            name_, size, metadata_size_, metadata_size_ >= 8 ? metadata_size_ - 8 : 0));
    }
    const std::uint64_t length = size;
    std::memcpy(metadata_base_, &length, sizeof length);
    if (size != 0) std::memcpy(metadata_base_ + protocol::kMetadataPrefixSize, data, size);
    oieb_.set_metadata_free(metadata_size_ - protocol::kMetadataPrefixSize - size);
    oieb_.set_metadata_written(protocol::kMetadataPrefixSize + size);  // release: publishes prefix and bytes
    metadata_written_ = true;
}

void Writer::Impl::check_reader_or_throw(bool force) {
    const std::uint64_t pid = oieb_.reader_pid();
    if (pid == 0) throw ReaderDeadException(fmt::format("buffer '{}': the reader closed the buffer", name_));
    if (!force && !reader_.due(Clock::now(), options_.wait.liveness_interval)) return;
    if (reader_.check(pid) != PeerWatch::Status::alive) {
        throw ReaderDeadException(fmt::format("buffer '{}': the reader process (pid {}) died", name_, pid));
    }
}

void Writer::Impl::wait_for_space(std::uint64_t required, Clock::time_point deadline, std::uint64_t frame_bytes) {
    auto enough = [&] {
        const std::uint64_t free_bytes = oieb_.payload_free_bytes();
        if (free_bytes > payload_size_) {
            corrupt(fmt::format("payload_free_bytes {} is more than payload_size {}", free_bytes, payload_size_));
        }
        return free_bytes >= required;
    };
    check_reader_or_throw(false);  // a load per frame; a liveness probe at most once per interval
    if (enough()) return;
    if (options_.wait.spin.count() > 0) {
        const auto spin_end = std::min(deadline, Clock::now() + options_.wait.spin);
        if (detail::spin_until(spin_end, enough)) return;
    }
    for (;;) {
        // Stale sem-r posts (one per release while we were not waiting) are dropped; the
        // space check after the drain cannot miss a release, which posts after adding space.
        for (int i = 0; i < 4096 && sem_read_->try_wait(); ++i) {
        }
        if (enough()) return;
        check_reader_or_throw(true);
        const auto now = Clock::now();
        if (now >= deadline) {
            const auto free_bytes = oieb_.payload_free_bytes();
            throw BufferFullException(fmt::format(
                "buffer '{}' is full: a {}-byte frame needs {} free bytes, {} of {} are free after waiting {} ms",
                name_, frame_bytes, required, free_bytes, payload_size_, options_.write_timeout.count()));
        }
        blocked_waits_.fetch_add(1, std::memory_order_relaxed);
        sem_read_->wait_until(std::min(deadline, now + options_.wait.liveness_interval));
        if (enough()) return;
    }
}

std::byte* Writer::Impl::reserve(std::size_t size) {
    ensure_open();
    if (pending_) {
        throw UsageException(fmt::format("buffer '{}': a frame buffer of {} bytes is pending; commit or abandon it first",
                                         name_, pending_->size));
    }
    if (size == 0) throw InvalidFrameSizeException(fmt::format("buffer '{}': frames must not be empty (size 0)", name_));
    if (ring::exceeds_ring(payload_size_, size)) {
        throw FrameTooLargeException(fmt::format(
            "buffer '{}': a frame of {} bytes (+16 header = {}) exceeds the {}-byte payload ring", name_, size,
            ring::wire_size(size), payload_size_));
    }
    const std::uint64_t wire = ring::wire_size(size);
    const auto deadline = Clock::now() + options_.write_timeout;
    for (;;) {
        const auto placement = ring::plan_write(payload_size_, write_pos_, wire, cooperative_reader_);
        if (placement.kind == ring::PlacementKind::impossible) {
            throw FrameTooLargeException(fmt::format(
                "buffer '{}': a frame of {} bytes ({} on the wire) can never be placed at write position {} of the "
                "{}-byte ring with this reader (pid {}, not a zerobuffer C++ reader): the tail of {} bytes is too "
                "short and wrapping would overwrite the wrap marker. Use a payload of at least twice the largest frame",
                name_, size, wire, write_pos_, payload_size_, oieb_.reader_pid(),
                write_pos_ >= payload_size_ ? 0 : payload_size_ - write_pos_));
        }
        wait_for_space(placement.required, deadline, size);
        if (placement.kind != ring::PlacementKind::standalone_wrap) {
            pending_ = Pending{placement, size};
            return payload_ + placement.offset + protocol::kFrameHeaderSize;
        }
        // Publish a wrap marker on its own; our reader passes it and returns the tail.
        const protocol::FrameHeader marker{0, protocol::kStandaloneWrapSequence};
        std::memcpy(payload_ + write_pos_, &marker, sizeof marker);
        oieb_.sub_free(placement.waste);
        write_pos_ = 0;
        oieb_.set_write_pos(0);
        oieb_.set_written_count(++written_count_);
        sem_write_->post();
        wraps_.fetch_add(1, std::memory_order_relaxed);
    }
}

std::uint64_t Writer::Impl::commit() {
    ensure_open();
    if (!pending_) throw UsageException(fmt::format("buffer '{}': commit without a pending frame buffer", name_));
    const Pending pending = *pending_;
    pending_.reset();
    const auto& placement = pending.placement;
    const std::uint64_t wire = ring::wire_size(pending.size);
    if (oieb_.reader_pid() == 0) {
        throw ReaderDeadException(fmt::format("buffer '{}': the reader closed the buffer; frame not published", name_));
    }
    if (placement.kind == ring::PlacementKind::wrap) {
        if (placement.marker) {
            const protocol::FrameHeader marker{0, 0};
            std::memcpy(payload_ + write_pos_, &marker, sizeof marker);
            ++written_count_;
            wraps_.fetch_add(1, std::memory_order_relaxed);
        }
        if (placement.waste != 0) oieb_.sub_free(placement.waste);
    }
    const std::uint64_t sequence = next_sequence_++;
    const protocol::FrameHeader header{pending.size, sequence};
    std::memcpy(payload_ + placement.offset, &header, sizeof header);
    write_pos_ = ring::advance(payload_size_, placement.offset, wire);  // modulo S, never S (contract §3.9.7)
    oieb_.set_write_pos(write_pos_);
    oieb_.sub_free(wire);
    oieb_.set_written_count(++written_count_);  // release: publishes header and data
    sem_write_->post();
    frames_written_.fetch_add(1, std::memory_order_relaxed);
    bytes_written_.fetch_add(pending.size, std::memory_order_relaxed);
    return sequence;
}

bool Writer::Impl::is_reader_connected() const {
    if (!open_) return false;
    return posix::pid_alive(oieb_.reader_pid());
}

BufferHealth Writer::Impl::health() const {
    ensure_open();
    BufferHealth h = detail::snapshot_shared_state(oieb_, payload_size_, metadata_size_);
    h.frames = frames_written_.load(std::memory_order_relaxed);
    h.bytes = bytes_written_.load(std::memory_order_relaxed);
    h.wraps = wraps_.load(std::memory_order_relaxed);
    h.blocked_waits = blocked_waits_.load(std::memory_order_relaxed);
    return h;
}

void Writer::Impl::close() noexcept {
    if (!open_) return;
    open_ = false;
    pending_.reset();
    oieb_.cas_writer_pid(pid_, 0);  // only our own PID is cleared
    sem_write_.reset();
    sem_read_.reset();
    shm_.reset();
    detail::log(LogLevel::info, "writer detached from buffer '{}'", name_);
}

// ---- public forwarding ----

namespace {
[[noreturn]] void throw_moved_from() { throw ObjectClosedException("writer was moved from"); }
}  // namespace

Writer::Writer(std::string name, const WriterOptions& options)
    : impl_(std::make_unique<Impl>(std::move(name), options)) {}
Writer::~Writer() = default;
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

void Writer::set_metadata(std::span<const std::byte> metadata) { set_metadata(metadata.data(), metadata.size()); }
void Writer::set_metadata(const void* data, std::size_t size) {
    if (!impl_) throw_moved_from();
    impl_->set_metadata(data, size);
}

std::uint64_t Writer::write_frame(std::span<const std::byte> data) { return write_frame(data.data(), data.size()); }
std::uint64_t Writer::write_frame(const void* data, std::size_t size) {
    if (!impl_) throw_moved_from();
    if (size != 0 && data == nullptr) {
        throw InvalidArgumentException(fmt::format("buffer '{}': frame pointer is null", impl_->name_));
    }
    std::byte* target = impl_->reserve(size);
    std::memcpy(target, data, size);
    return impl_->commit();
}

std::span<std::byte> Writer::get_frame_buffer(std::size_t size) {
    if (!impl_) throw_moved_from();
    return {impl_->reserve(size), size};
}
std::uint64_t Writer::commit_frame() {
    if (!impl_) throw_moved_from();
    return impl_->commit();
}
void Writer::abandon_frame() noexcept {
    if (impl_) impl_->abandon();
}
bool Writer::has_pending_frame() const noexcept { return impl_ && impl_->pending_.has_value(); }
FrameReservation Writer::acquire_frame(std::size_t size) {
    if (!impl_) throw_moved_from();
    std::byte* data = impl_->reserve(size);
    return FrameReservation(impl_.get(), {data, size}, impl_->next_sequence_);
}
std::uint64_t Writer::next_sequence() const noexcept { return impl_ ? impl_->next_sequence_ : 0; }

void Writer::set_write_timeout(std::chrono::milliseconds timeout) {
    if (!impl_) throw_moved_from();
    detail::validate_timeout(impl_->name_, timeout, "write timeout");
    impl_->options_.write_timeout = timeout;
}
std::chrono::milliseconds Writer::write_timeout() const noexcept {
    return impl_ ? impl_->options_.write_timeout : std::chrono::milliseconds{0};
}
bool Writer::is_reader_connected() const { return impl_ && impl_->is_reader_connected(); }
bool Writer::metadata_written() const {
    if (!impl_) throw_moved_from();
    impl_->ensure_open();
    return impl_->metadata_written_ || impl_->oieb_.metadata_written_bytes() > 0;
}
std::uint64_t Writer::frames_written() const noexcept { return impl_ ? impl_->frames_written_.load() : 0; }
std::uint64_t Writer::bytes_written() const noexcept { return impl_ ? impl_->bytes_written_.load() : 0; }
const std::string& Writer::name() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->name_ : empty;
}
BufferHealth Writer::health() const {
    if (!impl_) throw_moved_from();
    return impl_->health();
}
void Writer::close() noexcept {
    if (impl_) impl_->close();
}
bool Writer::is_open() const noexcept { return impl_ && impl_->open_; }

// ---- FrameReservation ----

FrameReservation::FrameReservation(FrameReservation&& other) noexcept
    : writer_(std::exchange(other.writer_, nullptr)), data_(other.data_), sequence_(other.sequence_) {}

FrameReservation& FrameReservation::operator=(FrameReservation&& other) noexcept {
    if (this != &other) {
        if (writer_ != nullptr) writer_->abandon();
        writer_ = std::exchange(other.writer_, nullptr);
        data_ = other.data_;
        sequence_ = other.sequence_;
    }
    return *this;
}

FrameReservation::~FrameReservation() {
    if (writer_ != nullptr) writer_->abandon();
}

std::uint64_t FrameReservation::commit() {
    if (writer_ == nullptr) throw UsageException("commit of an empty or already committed frame reservation");
    Writer::Impl* writer = std::exchange(writer_, nullptr);
    return writer->commit();
}

}  // namespace zerobuffer
