#include "core/names.h"

#include <fmt/format.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::detail {
namespace {

// Larger blocks are refused outright: they would overflow offset arithmetic long before any
// machine could hold them.
constexpr std::uint64_t kMaxBlockSize = std::uint64_t{1} << 46;  // 64 TiB

}  // namespace

void validate_name(std::string_view name, std::string_view what) {
    if (name.empty()) throw InvalidNameException(fmt::format("invalid {}: it is empty", what));
    if (name.size() > protocol::kMaxNameLength) {
        throw InvalidNameException(fmt::format("invalid {} '{}...': {} characters, the limit is {}", what,
                                               name.substr(0, 32), name.size(), protocol::kMaxNameLength));
    }
    if (name.find('/') != std::string_view::npos) {
        throw InvalidNameException(fmt::format("invalid {} '{}': it contains '/'", what, name));
    }
    if (name.find('\0') != std::string_view::npos) {
        throw InvalidNameException(fmt::format("invalid {}: it contains a NUL character", what));
    }
    if (name == "." || name == "..") throw InvalidNameException(fmt::format("invalid {} '{}'", what, name));
    if (name.starts_with("sem.")) {
        throw InvalidNameException(fmt::format(
            "invalid {} '{}': names starting with 'sem.' are where glibc keeps named semaphores "
            "(/dev/shm/sem.*); such a buffer would collide with another buffer's semaphores",
            what, name));
    }
}

protocol::Layout validate_config(std::string_view name, const BufferConfig& config) {
    if (config.payload_size == 0) {
        throw InvalidArgumentException(fmt::format("buffer '{}': payload_size is 0; it must be at least 1 byte", name));
    }
    if (config.payload_size > kMaxBlockSize || config.metadata_size > kMaxBlockSize) {
        throw InvalidArgumentException(fmt::format(
            "buffer '{}': metadata_size {} / payload_size {} exceed the limit of {} bytes per block", name,
            config.metadata_size, config.payload_size, kMaxBlockSize));
    }
    if (config.permissions && *config.permissions > 0777) {
        throw InvalidArgumentException(fmt::format(
            "buffer '{}': permissions {:o} are not a file mode of the form 0ugo (at most 0777)", name, *config.permissions));
    }
    if (config.group && config.group->empty()) {
        throw InvalidArgumentException(fmt::format("buffer '{}': group is set but empty", name));
    }
    return {protocol::align_block(config.metadata_size), protocol::align_block(config.payload_size)};
}

void validate_timeout(std::string_view name, std::chrono::milliseconds timeout, std::string_view what) {
    if (timeout.count() <= 0) {
        throw InvalidArgumentException(
            fmt::format("buffer '{}': {} must be positive, got {} ms", name, what, timeout.count()));
    }
}

void validate_wait_time(std::string_view name, std::chrono::milliseconds timeout, std::string_view what) {
    if (timeout.count() < 0) {
        throw InvalidArgumentException(
            fmt::format("buffer '{}': {} must not be negative, got {} ms", name, what, timeout.count()));
    }
}

void validate_wait(std::string_view name, const WaitStrategy& wait) {
    if (wait.spin.count() < 0) {
        throw InvalidArgumentException(fmt::format("buffer '{}': wait.spin is negative ({} us)", name, wait.spin.count()));
    }
    if (wait.spin > std::chrono::seconds(1)) {
        throw InvalidArgumentException(
            fmt::format("buffer '{}': wait.spin is {} us; at most 1 s of spinning is allowed", name, wait.spin.count()));
    }
    validate_timeout(name, wait.liveness_interval, "wait.liveness_interval");
}

void validate_reader_options(std::string_view name, const ReaderOptions& options) { validate_wait(name, options.wait); }

void validate_writer_options(std::string_view name, const WriterOptions& options) {
    validate_timeout(name, options.write_timeout, "write timeout");
    validate_wait(name, options.wait);
}

std::string segment_path(std::string_view name) { return fmt::format("{}/{}", kShmDirectory, name); }
std::string semaphore_path(std::string_view sem_name) { return fmt::format("{}/sem.{}", kShmDirectory, sem_name); }
std::string lock_path(std::string_view name) { return fmt::format("{}/{}.lock", kLockDirectory, name); }

std::string csharp_lock_path(std::string_view name, std::string_view tmpdir) {
    std::string dir = tmpdir.empty() ? std::string("/tmp") : std::string(tmpdir);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return fmt::format("{}/zerobuffer/locks/{}.lock", dir, name);
}

}  // namespace zerobuffer::detail
