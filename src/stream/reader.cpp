// Reader: creation (through the ownership module), metadata, health, close, and the public
// forwarding functions. Reading itself is in reader_read.cpp.
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "core/deadline.h"
#include "core/log.h"
#include "core/names.h"
#include "ownership/claim.h"
#include "platform/posix/cpu.h"
#include "platform/posix/process.h"
#include "platform/posix/slot_lock.h"
#include "stream/health_report.h"
#include "stream/os_errors.h"
#include "stream/reader_impl.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer {

Reader::Impl::Impl(std::string name, const BufferConfig& config, const ReaderOptions& options)
    : name_(std::move(name)),
      config_(config),
      options_(options),
      strict_(options.peer_mode == PeerMode::foreign),
      spin_(options.wait.spin) {
    detail::validate_name(name_);
    detail::validate_reader_options(name_, options_);
    pid_ = static_cast<std::uint64_t>(posix::current_pid());
    detail::with_buffer_context(name_, [&] {
        detail::ClaimedBuffer claimed = detail::claim_buffer(name_, config_, options_, pid_);
        payload_size_ = claimed.layout.payload_size;
        metadata_size_ = claimed.layout.metadata_size;
        lock_.emplace(std::move(claimed.lock));
        sem_write_.emplace(std::move(claimed.sem_write));
        queue_ = new detail::ReleaseQueue(std::move(claimed.segment), std::move(claimed.sem_read), payload_size_, strict_);
    });
    std::byte* base = queue_->base();
    oieb_ = detail::OiebView(reinterpret_cast<protocol::Oieb*>(base));
    metadata_base_ = base + protocol::kOiebSize;
    ring_ = {base + protocol::kOiebSize + metadata_size_, static_cast<std::size_t>(payload_size_)};
    fd_ = queue_->segment().fd();
    writer_ = detail::PeerWatch(fd_, protocol::kWriterLockOffset);
    switch (options_.discovery) {
        case FrameDiscovery::positions: by_position_ = true; break;
        case FrameDiscovery::posts: by_position_ = false; break;
        case FrameDiscovery::automatic: by_position_ = posix::kStoresAreOrdered && options_.peer_mode == PeerMode::automatic; break;
    }
    open_.store(true, std::memory_order_release);
    detail::log(LogLevel::info, "reader created buffer '{}' (metadata {} B, payload {} B, discovery by {})", name_,
                metadata_size_, payload_size_, by_position_ ? "positions" : "posts");
}

void Reader::Impl::throw_closed() const {
    throw ObjectClosedException(fmt::format("reader of buffer '{}' is closed", name_));
}

void Reader::Impl::corrupt(std::string_view what) const {
    throw CorruptBufferException(fmt::format("buffer '{}' is corrupt: {}", name_, what));
}

void Reader::Impl::check_segment() const {
    const posix::SharedMemory& segment = queue_->segment();
    if (!segment.truncated()) return;
    queue_->abandon_segment();  // releases and close() must not touch the missing pages
    corrupt(fmt::format("/dev/shm/{} was truncated to {} bytes by another process, it needs {}; the buffer is unusable",
                        name_, segment.info().size, segment.size()));
}

std::span<const std::byte> Reader::Impl::metadata() const {
    ensure_open();
    const std::uint64_t written = oieb_.metadata_written_bytes();
    if (written == 0) return {};
    const std::uint64_t M = metadata_size_;
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
    std::lock_guard lock(state_mutex_);
    if (!open_.load(std::memory_order_acquire) || queue_->segment().truncated()) return false;
    return detail::with_buffer_context(name_, [&] {
        return detail::peer_status_now(oieb_.writer_pid(), fd_, protocol::kWriterLockOffset,
                                       cooperative_writer_.load(std::memory_order_relaxed)).status == PeerStatus::alive;
    });
}

BufferHealth Reader::Impl::health() const {
    std::lock_guard lock(state_mutex_);
    ensure_open();
    detail::with_buffer_context(name_, [&] { check_segment(); });
    queue_->drain();  // a snapshot after every release so far
    BufferHealth h = detail::with_buffer_context(name_, [&] {
        return detail::shared_health(oieb_, payload_size_, metadata_size_, fd_,
                                     cooperative_writer_.load(std::memory_order_relaxed), pid_);
    });
    if (h.reader.pid == pid_) h.reader = {pid_, PeerStatus::alive, true};  // our own lock is invisible to us
    h.reader_alive = h.reader.status == PeerStatus::alive;
    h.frames = frames_read_.load(std::memory_order_relaxed);
    h.bytes = bytes_read_.load(std::memory_order_relaxed);
    h.frames_outstanding = queue_->outstanding_frames();
    h.wraps = wraps_.load(std::memory_order_relaxed);
    h.blocked_waits = blocked_waits_.load(std::memory_order_relaxed);
    return h;
}

void Reader::Impl::close() noexcept {
    std::lock_guard lock(state_mutex_);
    if (!open_.exchange(false, std::memory_order_acq_rel)) return;
    if (queue_->segment().truncated()) queue_->abandon_segment();  // the OIEB is gone: touch nothing
    else oieb_.cas_reader_pid(pid_, 0);
    // We still hold the lock file, so the name's objects are ours unless the segment was replaced.
    if (queue_->segment().name_refers_to_this()) {
        posix::SharedMemory::unlink(name_);
        posix::NamedSemaphore::unlink(detail::sem_write_name(name_));
        posix::NamedSemaphore::unlink(detail::sem_read_name(name_));
    }
    sem_write_.reset();
    posix::unlock_byte(fd_, protocol::kReaderLockOffset);
    queue_->segment().close_descriptor();  // the mapping lives on while frames are held
    fd_ = -1;
    queue_->retire();                      // returns released space; frames keep the queue alive
    queue_ = nullptr;
    lock_.reset();                         // unlinks the lock file, then unlocks
    detail::log(LogLevel::info, "reader closed buffer '{}'", name_);
}

// ---- public forwarding ----

Reader::Reader(std::string name, const BufferConfig& config, const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(std::move(name), config, options)) {}
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
Frame Reader::try_read_frame() {
    if (!impl_) throw_moved_from();
    return impl_->try_read_frame();
}
bool Reader::is_writer_connected() const { return impl_ && impl_->is_writer_connected(); }
bool Reader::wait_for_writer(std::chrono::milliseconds timeout) const {
    if (!impl_) throw_moved_from();
    detail::validate_wait_time(impl_->name_, timeout, "writer wait timeout");
    const auto deadline = detail::deadline_after<Impl::Clock>(Impl::Clock::now(), timeout);
    for (;;) {
        if (impl_->is_writer_connected()) return true;
        if (Impl::Clock::now() >= deadline) return false;
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
bool Reader::is_open() const noexcept { return impl_ && impl_->open_.load(std::memory_order_acquire); }

}  // namespace zerobuffer
