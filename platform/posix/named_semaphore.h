// A POSIX named semaphore (sem_open), waited on with CLOCK_MONOTONIC deadlines.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <semaphore.h>

#include "platform/posix/shared_memory.h"

namespace zerobuffer::posix {

class NamedSemaphore {
public:
    using Clock = std::chrono::steady_clock;

    // Creates the semaphore with value 0 and `owner` (exact mode, group), complete before its
    // name appears and only if the name is free (nothing is left behind if the process is
    // killed meanwhile, unlike sem_open, which may leave a /dev/shm/sem.XXXXXX temporary file).
    // nullopt if one of that name exists. Throws std::system_error for other failures.
    static std::optional<NamedSemaphore> create(const std::string& name, const Ownership& owner);
    // Opens an existing semaphore; nullopt if there is none.
    static std::optional<NamedSemaphore> open_existing(const std::string& name);
    static bool unlink(const std::string& name) noexcept;
    static bool exists(const std::string& name);

    NamedSemaphore(NamedSemaphore&& other) noexcept;
    NamedSemaphore& operator=(NamedSemaphore&& other) noexcept;
    NamedSemaphore(const NamedSemaphore&) = delete;
    NamedSemaphore& operator=(const NamedSemaphore&) = delete;
    ~NamedSemaphore();

    // Never throws: EOVERFLOW (a counter nobody drains) is ignored, as the protocol allows.
    // With no waiter glibc makes no syscall here.
    void post() noexcept { ::sem_post(sem_); }
    // Takes one count if available, without blocking and without a syscall.
    bool try_wait() noexcept;
    // Waits until a count is available or `deadline`; false on timeout. EINTR is retried.
    bool wait_until(Clock::time_point deadline);
    // The count now (sem_getvalue: a plain load, no syscall).
    int value() const noexcept {
        int v = 0;
        ::sem_getvalue(sem_, &v);
        return v;
    }
    const std::string& name() const noexcept { return name_; }

private:
    NamedSemaphore(std::string name, sem_t* sem) noexcept : name_(std::move(name)), sem_(sem) {}
    std::string name_;
    sem_t* sem_ = nullptr;
};

}  // namespace zerobuffer::posix
