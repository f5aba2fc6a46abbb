// Waking a thread that sleeps in poll(): an eventfd that other threads signal, and a poll over a
// few descriptors with a CLOCK_MONOTONIC timeout.
#pragma once

#include <chrono>
#include <initializer_list>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

class Wakeup {
public:
    // Throws std::system_error if no eventfd can be made.
    Wakeup();
    Wakeup(Wakeup&&) noexcept = default;
    Wakeup& operator=(Wakeup&&) noexcept = default;
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;
    ~Wakeup() = default;

    // Makes fd() readable until clear(). Any thread; never blocks, never throws.
    void signal() noexcept;
    // Consumes the signals so far. Never blocks, never throws.
    void clear() noexcept;
    int fd() const noexcept { return fd_.get(); }

private:
    FileDescriptor fd_;
};

// Waits until one of `fds` (negative ones are skipped) is readable or `timeout` (>= 0) passes.
// Returns true if one is readable. EINTR ends the wait early (returns false).
bool wait_readable(std::initializer_list<int> fds, std::chrono::milliseconds timeout);

}  // namespace zerobuffer::posix
