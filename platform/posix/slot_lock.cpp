#include "platform/posix/slot_lock.h"

#include <cerrno>

#include <fcntl.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {

struct flock byte_lock(short type, std::int64_t offset) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(offset);
    fl.l_len = 1;
    fl.l_pid = 0;  // required to be 0 for OFD locks
    return fl;
}

}  // namespace

bool try_lock_byte(int fd, std::int64_t offset) {
    struct flock fl = byte_lock(F_WRLCK, offset);
    if (retry_eintr([&] { return ::fcntl(fd, F_OFD_SETLK, &fl); }) == 0) return true;
    if (errno == EAGAIN || errno == EACCES) return false;
    throw_errno(errno, "taking a liveness lock (F_OFD_SETLK)");
}

void unlock_byte(int fd, std::int64_t offset) noexcept {
    struct flock fl = byte_lock(F_UNLCK, offset);
    retry_eintr([&] { return ::fcntl(fd, F_OFD_SETLK, &fl); });
}

bool byte_is_locked(int fd, std::int64_t offset) {
    struct flock fl = byte_lock(F_WRLCK, offset);
    check("testing a liveness lock (F_OFD_GETLK)", [&] { return ::fcntl(fd, F_OFD_GETLK, &fl); });
    return fl.l_type != F_UNLCK;
}

}  // namespace zerobuffer::posix
