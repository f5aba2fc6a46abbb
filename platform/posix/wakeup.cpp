#include "platform/posix/wakeup.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace zerobuffer::posix {

Wakeup::Wakeup() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_.valid()) throw_errno(errno, "eventfd");
}

void Wakeup::signal() noexcept {
    const std::uint64_t one = 1;
    // EAGAIN (the counter is at its maximum) still leaves it readable: nothing to do.
    (void)retry_eintr([&] { return ::write(fd_.get(), &one, sizeof one); });
}

void Wakeup::clear() noexcept {
    std::uint64_t value = 0;
    (void)retry_eintr([&] { return ::read(fd_.get(), &value, sizeof value); });
}

bool wait_readable(std::initializer_list<int> fds, std::chrono::milliseconds timeout) {
    pollfd set[4]{};
    nfds_t n = 0;
    for (int fd : fds) {
        if (fd >= 0 && n < 4) set[n++] = pollfd{fd, POLLIN, 0};
    }
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, 60'000);
    const int ready = ::poll(set, n, static_cast<int>(ms));
    if (ready < 0 && errno != EINTR) throw_errno(errno, "poll");
    return ready > 0;
}

}  // namespace zerobuffer::posix
