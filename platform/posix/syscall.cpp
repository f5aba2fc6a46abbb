#include "platform/posix/syscall.h"

#include <cstring>
#include <system_error>

#include <unistd.h>

#include "zerobuffer/exceptions.h"

namespace zerobuffer::posix {

void throw_errno(int err, std::string_view what) {
    std::string message(what);
    message += ": ";
    message += std::strerror(err);
    throw SystemError(message, std::error_code(err, std::system_category()));
}

void FileDescriptor::reset() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);  // never retried: on Linux the descriptor is released even on EINTR
        fd_ = -1;
    }
}

}  // namespace zerobuffer::posix
