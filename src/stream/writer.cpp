// Writer: attaching (header checked before mapping), metadata, health, close, and the public
// forwarding functions. Writing itself is in writer_write.cpp.
#include <cstring>

#include <fmt/format.h>

#include "core/log.h"
#include "core/names.h"
#include "core/oieb_check.h"
#include "platform/posix/filesystem.h"
#include "platform/posix/process.h"
#include "platform/posix/slot_lock.h"
#include "stream/health_report.h"
#include "stream/os_errors.h"
#include "stream/writer_impl.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

Writer::Impl::Impl(std::string name, const WriterOptions& options)
    : name_(std::move(name)), options_(options), spin_(options.wait.spin) {
    detail::validate_name(name_);
    detail::validate_writer_options(name_, options_);
    pid_ = static_cast<std::uint64_t>(posix::current_pid());
    detail::with_buffer_context(name_, [&] { attach(); });
    open_.store(true, std::memory_order_release);
    detail::log(LogLevel::info, "writer attached to buffer '{}' (reader pid {}, {} reader)", name_, reader_.last_pid(),
                cooperative_reader_ ? "zerobuffer" : "foreign");
}

void Writer::Impl::corrupt(std::string_view what) const {
    throw CorruptBufferException(fmt::format("buffer '{}' is corrupt or not a ZeroBuffer v1 buffer: {}", name_, what));
}

void Writer::Impl::throw_closed() const {
    throw ObjectClosedException(fmt::format("writer of buffer '{}' is closed", name_));
}

void Writer::Impl::check_segment() const {
    if (!segment_->truncated()) return;
    corrupt(fmt::format("/dev/shm/{} was truncated to {} bytes by another process, it needs {}; the buffer is unusable",
                        name_, segment_->info().size, segment_->size()));
}

void Writer::Impl::attach() {
    try {
        segment_ = posix::SharedMemory::open(name_, true);
    } catch (const std::system_error& e) {
        if (e.code() != std::errc::permission_denied) throw;
        throw SystemError(fmt::format("buffer '{}': not allowed to open /dev/shm/{} ({}); the reader must create it "
                                      "with permissions or a group that include this user (uid {})",
                                      name_, name_, posix::describe_owner(posix::inspect_path(detail::segment_path(name_))),
                                      posix::effective_uid()),
                          e.code());
    }
    if (!segment_) throw BufferNotFoundException(fmt::format("buffer '{}' not found (no shared memory /dev/shm/{})", name_, name_));
    fd_ = segment_->fd();
    const posix::FileInfo info = segment_->info();
    if (!info.regular) corrupt("/dev/shm entry is not a regular file");
    segment_dev_ = info.dev;
    segment_ino_ = info.ino;
    if (options_.require_same_owner && info.uid != posix::effective_uid()) {
        throw InvalidArgumentException(fmt::format("buffer '{}' belongs to another user ({}) and require_same_owner is set",
                                                   name_, posix::describe_owner(info)));
    }
    // Validate everything before mapping or touching anything (docs/protocol.md §2.3).
    protocol::Oieb header{};
    const bool complete = info.size >= protocol::kOiebSize && segment_->read_at(&header, sizeof header, 0) == sizeof header;
    const detail::OiebVerdict verdict = detail::check_oieb(header, complete ? info.size : 0);
    if (verdict.status != detail::OiebStatus::valid) {
        const bool early = verdict.status == detail::OiebStatus::too_small || verdict.status == detail::OiebStatus::not_initialised;
        corrupt(early ? verdict.problem + " (not initialised yet?)" : verdict.problem);
    }
    metadata_size_ = header.metadata_size;
    payload_size_ = header.payload_size;
    max_frame_ = payload_size_ - protocol::kFrameHeaderSize;  // S >= 64

    // The reader, from the header just read, before mapping: a segment without a live reader
    // (a leftover, or a hostile file with a plausible header) is never mapped or prefaulted.
    const std::uint64_t reader_pid = header.reader_pid;
    if (reader_pid == 0) throw ReaderDeadException(fmt::format("buffer '{}' has no reader (reader_pid is 0)", name_));
    reader_ = detail::PeerWatch(fd_, protocol::kReaderLockOffset);
    const detail::PeerState reader = reader_.check(reader_pid);  // identified now, at attach time
    if (reader == detail::PeerState::dead) {
        throw ReaderDeadException(fmt::format("buffer '{}': its reader (pid {}) is not running", name_, reader_pid));
    }

    segment_->map(info.size, options_.prefault);
    oieb_ = detail::OiebView(reinterpret_cast<protocol::Oieb*>(segment_->data()));
    metadata_base_ = segment_->data() + protocol::kOiebSize;
    ring_ = {metadata_base_ + metadata_size_, static_cast<std::size_t>(payload_size_)};
    cooperative_reader_ = reader_.cooperative() && options_.peer_mode == PeerMode::automatic;
    cooperative_reader_pid_.store(reader_.cooperative() ? reader_pid : 0, std::memory_order_relaxed);

    // Semaphores before claiming writer_pid, so a failure here leaves the OIEB untouched.
    sem_write_ = posix::NamedSemaphore::open_existing(detail::sem_write_name(name_));
    if (!sem_write_) throw BufferNotFoundException(fmt::format("buffer '{}': semaphore {} not found", name_, detail::sem_write_name(name_)));
    sem_read_ = posix::NamedSemaphore::open_existing(detail::sem_read_name(name_));
    if (!sem_read_) throw BufferNotFoundException(fmt::format("buffer '{}': semaphore {} not found", name_, detail::sem_read_name(name_)));

    // The writer liveness lock, then writer_pid by CAS from 0 or from a dead writer: a live
    // writer's PID is never touched. Another zerobuffer writer holds the lock while attached.
    if (!posix::try_lock_byte(fd_, protocol::kWriterLockOffset)) {
        throw WriterAlreadyConnectedException(fmt::format("buffer '{}' already has a live writer (pid {}, a zerobuffer writer)",
                                                          name_, oieb_.writer_pid()));
    }
    for (;;) {
        const std::uint64_t current = oieb_.writer_pid();
        if (current != 0) {
            // Not ours (we hold the lock now): judge it by its PID; one we cannot judge counts as alive.
            const PeerHealth other = detail::peer_status_now(current, -1, 0, 0);
            if (other.status == PeerStatus::alive || other.status == PeerStatus::unknown) {
                posix::unlock_byte(fd_, protocol::kWriterLockOffset);
                throw WriterAlreadyConnectedException(fmt::format(
                    "buffer '{}' already has a live writer (pid {}{})", name_, current,
                    other.status == PeerStatus::unknown ? ", which cannot be judged from this PID namespace" : ""));
            }
        }
        if (oieb_.cas_writer_pid(current, pid_)) break;
    }

    cursor_.write_pos = oieb_.write_pos();
    cursor_.written_count = oieb_.written_count();
    if (cursor_.write_pos > payload_size_) corrupt(fmt::format("payload_write_pos {} is beyond payload_size {}", cursor_.write_pos, payload_size_));
    refresh_free(0);
    metadata_written_ = oieb_.metadata_written_bytes() > 0;
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

bool Writer::Impl::is_reader_connected() const {
    std::lock_guard lock(state_mutex_);
    if (!open_.load(std::memory_order_acquire) || segment_->truncated()) return false;
    return detail::with_buffer_context(name_, [&] {
        return detail::peer_status_now(oieb_.reader_pid(), fd_, protocol::kReaderLockOffset,
                                       cooperative_reader_pid_.load(std::memory_order_relaxed))
                   .status == PeerStatus::alive;
    });
}

BufferHealth Writer::Impl::health() const {
    std::lock_guard lock(state_mutex_);
    ensure_open();
    BufferHealth h = detail::with_buffer_context(name_, [&] {
        check_segment();
        return detail::shared_health(oieb_, payload_size_, metadata_size_, fd_, 0,
                                     cooperative_reader_pid_.load(std::memory_order_relaxed));
    });
    if (h.writer.pid == pid_) h.writer = {pid_, PeerStatus::alive, true};  // our own lock is invisible to us
    h.writer_alive = h.writer.status == PeerStatus::alive;
    h.frames = frames_written_.load(std::memory_order_relaxed);
    h.bytes = bytes_written_.load(std::memory_order_relaxed);
    h.wraps = wraps_.load(std::memory_order_relaxed);
    h.blocked_waits = blocked_waits_.load(std::memory_order_relaxed);
    return h;
}

void Writer::Impl::close() noexcept {
    std::lock_guard lock(state_mutex_);
    if (!open_.exchange(false, std::memory_order_acq_rel)) return;
    if (active_ != nullptr) {
        active_->detach();  // a reservation that outlives this is invalid from now on
        active_ = nullptr;
    }
    pending_.reset();
    // The lock first, then writer_pid: while our PID is in the OIEB, a new writer (possibly a
    // foreign one) cannot attach, so the lock never vouches for anyone but us.
    posix::unlock_byte(fd_, protocol::kWriterLockOffset);
    if (!segment_->truncated()) oieb_.cas_writer_pid(pid_, 0);  // only our own PID is cleared
    sem_write_.reset();
    sem_read_.reset();
    segment_.reset();
    fd_ = -1;
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
    return *impl_->write(data, size, Impl::kBlocking);
}
std::optional<std::uint64_t> Writer::try_write_frame(std::span<const std::byte> data, std::chrono::milliseconds timeout) {
    if (!impl_) throw_moved_from();
    detail::validate_wait_time(impl_->name_, timeout, "write timeout");
    return impl_->write(data.data(), data.size(), timeout);
}
FrameReservation Writer::acquire_frame(std::size_t size) {
    if (!impl_) throw_moved_from();
    return impl_->acquire(size, Impl::kBlocking);
}
FrameReservation Writer::try_acquire_frame(std::size_t size, std::chrono::milliseconds timeout) {
    if (!impl_) throw_moved_from();
    detail::validate_wait_time(impl_->name_, timeout, "write timeout");
    return impl_->acquire(size, timeout);
}
std::span<std::byte> Writer::get_frame_buffer(std::size_t size) {
    if (!impl_) throw_moved_from();
    impl_->compat_ = impl_->acquire(size, Impl::kBlocking);
    return impl_->compat_.data();
}
std::uint64_t Writer::commit_frame() {
    if (!impl_) throw_moved_from();
    if (!impl_->compat_.valid()) {
        throw UsageException(fmt::format("buffer '{}': commit_frame() without a pending get_frame_buffer(){}", impl_->name_,
                                         impl_->active_ != nullptr ? " (the pending frame is a FrameReservation: commit it)" : ""));
    }
    return impl_->compat_.commit();
}
void Writer::abandon_frame() noexcept {
    if (impl_ && impl_->active_ != nullptr) impl_->active_->abandon();
}
bool Writer::has_pending_frame() const noexcept { return impl_ && impl_->active_ != nullptr; }
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
    return impl_->metadata_written_;
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
bool Writer::is_open() const noexcept { return impl_ && impl_->open_.load(std::memory_order_acquire); }

}  // namespace zerobuffer
