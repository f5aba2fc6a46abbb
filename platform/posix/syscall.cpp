#include "platform/posix/syscall.h"

#include <system_error>

#include <unistd.h>

namespace zerobuffer::posix {

void throw_errno(int err, std::string_view what) {
    throw std::system_error(std::error_code(err, std::system_category()), std::string(what));
}

void FileDescriptor::reset() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);  // never retried: on Linux the descriptor is released even on EINTR
        fd_ = -1;
    }
}

}  // namespace zerobuffer::posix
