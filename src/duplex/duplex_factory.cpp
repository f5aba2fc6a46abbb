// Duplex channel: names, shared helpers and the factory.
#include <optional>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "core/names.h"
#include "core/oieb_view.h"
#include "duplex/duplex_internal.h"
#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/process.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/duplex.h"

namespace zerobuffer {

// ---- names ----

void validate_channel_name(std::string_view channel) {
    if (channel.size() > kMaxChannelNameLength) {
        throw InvalidNameException(fmt::format(
            "duplex channel name '{}...' is {} characters long; at most {} are allowed "
            "({} for a buffer name minus {} for the '{}' suffix)",
            channel.substr(0, 32), channel.size(), kMaxChannelNameLength, protocol::kMaxNameLength,
            kResponseSuffix.size(), kResponseSuffix));
    }
    detail::validate_name(channel, "duplex channel name");
}

std::string request_buffer_name(std::string_view channel) {
    return std::string(channel) + std::string(kRequestSuffix);
}

std::string response_buffer_name(std::string_view channel) {
    return std::string(channel) + std::string(kResponseSuffix);
}

BufferConfig default_response_config() {
    BufferConfig config;
    config.metadata_size = 4096;
    config.payload_size = std::size_t{256} * 1024 * 1024;
    return config;
}

DuplexTimeoutException::DuplexTimeoutException(const std::string& message)
    : ZeroBufferException(message, std::make_error_code(std::errc::timed_out)) {}

const char* to_string(DuplexErrorKind kind) noexcept {
    switch (kind) {
        case DuplexErrorKind::handler_failed: return "handler_failed";
        case DuplexErrorKind::init_failed: return "init_failed";
        case DuplexErrorKind::response_missing: return "response_missing";
        case DuplexErrorKind::too_many_responses: return "too_many_responses";
        case DuplexErrorKind::client_disconnected: return "client_disconnected";
        case DuplexErrorKind::client_died: return "client_died";
        case DuplexErrorKind::response_attach_failed: return "response_attach_failed";
        case DuplexErrorKind::response_write_failed: return "response_write_failed";
        case DuplexErrorKind::protocol_error: return "protocol_error";
        case DuplexErrorKind::fatal: return "fatal";
    }
    return "unknown";
}

// ---- shared helpers ----

namespace detail {

bool process_alive(std::uint64_t pid) noexcept {
    try {
        return posix::pid_alive(pid);
    } catch (...) {
        return true;  // cannot tell: do not declare a peer dead on a failed probe
    }
}

std::uint64_t peek_reader_pid(const std::string& name) noexcept {
    try {
        if (auto shm = posix::SharedMemory::open_existing(name, false); shm && shm->size() >= protocol::kOiebSize) {
            const OiebView oieb(reinterpret_cast<protocol::Oieb*>(shm->data()));
            if (oieb.oieb_size() == protocol::kOiebSize) return oieb.reader_pid();
        }
    } catch (...) {
    }
    return 0;
}

bool reclaim_stale_buffer(const std::string& name) noexcept {
    try {
        // A live C# reader does not use our lock file: never touch a buffer it holds.
        if (posix::LockFile::is_held(csharp_lock_path(name))) return false;
        // A killed multi-threaded process reads as dead (zombie group leader) slightly before
        // its last thread has exited and released its flock: while the lock is held but the
        // recorded owner is dead, wait a little for the lock instead of giving up.
        const auto deadline = DuplexClock::now() + std::chrono::milliseconds(100);
        std::optional<posix::LockFile> lock;
        for (;;) {
            lock = posix::LockFile::try_acquire(lock_path(name), std::nullopt);
            if (lock) break;
            std::uint64_t owner = 0;
            if (auto shm = posix::SharedMemory::open_existing(name, false); shm && shm->size() >= protocol::kOiebSize) {
                owner = OiebView(reinterpret_cast<protocol::Oieb*>(shm->data())).reader_pid();
            }
            // A live owner, or a reader being created (no PID yet): not stale.
            if (owner == 0 || process_alive(owner) || DuplexClock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        bool removed = false;
        if (auto shm = posix::SharedMemory::open_existing(name, false)) {
            if (shm->size() >= protocol::kOiebSize) {
                const std::uint64_t owner = OiebView(reinterpret_cast<protocol::Oieb*>(shm->data())).reader_pid();
                if (owner != 0 && process_alive(owner)) return false;  // the lock file is released below
            }
            removed = posix::SharedMemory::unlink(name);
        }
        removed = posix::NamedSemaphore::unlink(sem_write_name(name)) || removed;
        removed = posix::NamedSemaphore::unlink(sem_read_name(name)) || removed;
        lock->release();  // unlinks the lock file while still holding it
        return removed;
    } catch (...) {
        return false;
    }
}

}  // namespace detail

// ---- factory ----

ImmutableDuplexServer DuplexChannelFactory::create_immutable_server(std::string channel,
                                                                    const BufferConfig& request_config,
                                                                    DuplexServerOptions options) const {
    return ImmutableDuplexServer(std::move(channel), request_config, std::move(options));
}

DuplexClient DuplexChannelFactory::create_client(std::string channel, DuplexClientOptions options) const {
    return DuplexClient(std::move(channel), std::move(options));
}

DuplexClient DuplexChannelFactory::create_client(std::string channel, const BufferConfig& response_config,
                                                 std::chrono::milliseconds connect_timeout) const {
    DuplexClientOptions options;
    options.response_config = response_config;
    options.connect_timeout = connect_timeout;
    return DuplexClient(std::move(channel), std::move(options));
}

bool DuplexChannelFactory::wait_exists(std::string_view channel, std::chrono::milliseconds timeout) {
    validate_channel_name(channel);
    detail::validate_timeout(channel, timeout, "wait_exists timeout");
    const std::string name = request_buffer_name(channel);
    const auto deadline = detail::deadline_in(timeout);
    for (;;) {
        if (auto shm = posix::SharedMemory::open_existing(name, false)) {
            if (shm->size() >= protocol::kOiebSize) {
                const detail::OiebView oieb(reinterpret_cast<protocol::Oieb*>(shm->data()));
                if (oieb.oieb_size() == protocol::kOiebSize && detail::process_alive(oieb.reader_pid())) return true;
            }
        }
        if (detail::DuplexClock::now() >= deadline) return false;
        detail::sleep_until_at_most(deadline, std::chrono::milliseconds(10));
    }
}

}  // namespace zerobuffer
