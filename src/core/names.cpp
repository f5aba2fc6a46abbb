#include "core/names.h"

#include <cstdlib>

#include <fmt/format.h>
#include <sys/statvfs.h>

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
    if (config.permissions && *config.permissions > 07777) {
        throw InvalidArgumentException(
            fmt::format("buffer '{}': permissions {:o} are not a file mode", name, *config.permissions));
    }
    validate_wait(name, config.wait);
    const protocol::Layout layout{protocol::align_block(config.metadata_size), protocol::align_block(config.payload_size)};
    struct statvfs fs {};
    if (::statvfs("/dev/shm", &fs) == 0) {
        const std::uint64_t capacity = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
        if (capacity != 0 && layout.total_size() > capacity) {
            throw InvalidArgumentException(fmt::format(
                "buffer '{}': needs {} bytes of shared memory (OIEB 128 + metadata {} + payload {}) but /dev/shm "
                "holds only {} bytes",
                name, layout.total_size(), layout.metadata_size, layout.payload_size, capacity));
        }
    }
    return layout;
}

void validate_timeout(std::string_view name, std::chrono::milliseconds timeout, std::string_view what) {
    if (timeout.count() <= 0) {
        throw InvalidArgumentException(
            fmt::format("buffer '{}': {} must be positive, got {} ms", name, what, timeout.count()));
    }
}

void validate_wait(std::string_view name, const WaitStrategy& wait) {
    if (wait.spin.count() < 0) {
        throw InvalidArgumentException(fmt::format("buffer '{}': wait.spin is negative ({} us)", name, wait.spin.count()));
    }
    validate_timeout(name, wait.liveness_interval, "wait.liveness_interval");
}

std::string lock_path(std::string_view name) { return fmt::format("{}/{}.lock", kLockDirectory, name); }

std::string csharp_lock_path(std::string_view name) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return fmt::format("{}/zerobuffer/locks/{}.lock", dir, name);
}

std::string lock_advert(std::uint64_t pid) {
    return fmt::format("zerobuffer-cpp protocol=1 pid={} features=standalone-wrap\n", pid);
}

bool advert_allows_standalone_wrap(std::string_view text, std::uint64_t reader_pid) {
    if (!text.starts_with("zerobuffer-cpp ")) return false;
    if (text.find(fmt::format(" pid={} ", reader_pid)) == std::string_view::npos) return false;
    return text.find("standalone-wrap") != std::string_view::npos;
}

}  // namespace zerobuffer::detail
