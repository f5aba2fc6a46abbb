// admin::HeaderReader: one descriptor, one pread per read, every header checked like the
// writer checks it before mapping (core/oieb_check.h).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "core/names.h"
#include "core/oieb_check.h"
#include "platform/posix/filesystem.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/admin.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::admin {

HeaderReader::HeaderReader(const std::string& name) : name_(name) {
    validate_buffer_name(name);
    std::optional<posix::SharedMemory> shm;
    try {
        shm = posix::SharedMemory::open(name, false);
    } catch (const std::system_error& e) {
        throw SystemError(fmt::format("buffer '{}': cannot open {}: {}", name, detail::segment_path(name), e.what()),
                          e.code());
    }
    if (!shm) throw BufferNotFoundException(fmt::format("no buffer '{}': {} does not exist", name, detail::segment_path(name)));
    const posix::FileInfo info = shm->info();
    dev_ = static_cast<std::uint64_t>(info.dev);
    ino_ = static_cast<std::uint64_t>(info.ino);
    fd_ = ::dup(shm->fd());  // the SharedMemory object closes its own descriptor
    if (fd_ < 0) throw SystemError(fmt::format("buffer '{}': dup failed", name), std::error_code(errno, std::system_category()));
}

HeaderReader::~HeaderReader() {
    if (fd_ >= 0) ::close(fd_);
}

HeaderReader::HeaderReader(HeaderReader&& other) noexcept
    : name_(std::move(other.name_)), fd_(std::exchange(other.fd_, -1)), dev_(other.dev_), ino_(other.ino_) {}

HeaderReader& HeaderReader::operator=(HeaderReader&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        name_ = std::move(other.name_);
        fd_ = std::exchange(other.fd_, -1);
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

std::optional<protocol::Oieb> HeaderReader::read() const noexcept {
    if (fd_ < 0) return std::nullopt;
    struct stat st {};
    protocol::Oieb o{};
    if (::fstat(fd_, &st) != 0) return std::nullopt;
    ssize_t got;
    do {
        got = ::pread(fd_, &o, sizeof o, 0);
    } while (got < 0 && errno == EINTR);
    if (got != static_cast<ssize_t>(sizeof o)) return std::nullopt;
    const detail::OiebVerdict verdict = detail::check_oieb(o, static_cast<std::uint64_t>(st.st_size));
    if (verdict.status != detail::OiebStatus::valid && verdict.status != detail::OiebStatus::inconsistent) {
        return std::nullopt;
    }
    return o;
}

bool HeaderReader::current() const noexcept {
    struct stat st {};
    if (fd_ < 0 || ::lstat(detail::segment_path(name_).c_str(), &st) != 0) return false;
    return static_cast<std::uint64_t>(st.st_dev) == dev_ && static_cast<std::uint64_t>(st.st_ino) == ino_;
}

}  // namespace zerobuffer::admin
