// A POSIX named semaphore (sem_open), waited on with CLOCK_MONOTONIC deadlines.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <semaphore.h>

namespace zerobuffer::posix {

class NamedSemaphore {
public:
    using Clock = std::chrono::steady_clock;

    // Removes any semaphore of this name (a leftover, e.g. leaked by a Python reader), then
    // creates it with O_EXCL and value 0. `mode`: exact mode; unset: 0666 filtered by umask.
    static NamedSemaphore create_fresh(const std::string& name, std::optional<unsigned> mode);
    // Opens an existing semaphore; nullopt if there is none.
    static std::optional<NamedSemaphore> open_existing(const std::string& name);
    static bool unlink(const std::string& name) noexcept;

    NamedSemaphore(NamedSemaphore&& other) noexcept;
    NamedSemaphore& operator=(NamedSemaphore&& other) noexcept;
    NamedSemaphore(const NamedSemaphore&) = delete;
    NamedSemaphore& operator=(const NamedSemaphore&) = delete;
    ~NamedSemaphore();

    // Never throws: EOVERFLOW (a counter nobody drains) is ignored, as the protocol allows.
    // With no waiter glibc makes no syscall here.
    void post() noexcept;
    // Takes one count if available, without blocking and without a syscall.
    bool try_wait() noexcept;
    // Waits until a count is available or `deadline`; false on timeout. EINTR is retried.
    bool wait_until(Clock::time_point deadline);
    int value() const noexcept;
    const std::string& name() const noexcept { return name_; }

private:
    NamedSemaphore(std::string name, sem_t* sem) noexcept : name_(std::move(name)), sem_(sem) {}
    std::string name_;
    sem_t* sem_ = nullptr;
};

}  // namespace zerobuffer::posix
