#include "platform/posix/named_semaphore.h"

#include <cerrno>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {
std::string os_name(const std::string& name) { return "/" + name; }
// glibc keeps a named semaphore in /dev/shm/sem.<name without the slash>.
std::string file_of(const std::string& name) { return "/dev/shm/sem." + name; }
}  // namespace

std::optional<NamedSemaphore> NamedSemaphore::create(const std::string& name, const Ownership& owner) {
    const std::string path = os_name(name);
    sem_t* sem = ::sem_open(path.c_str(), O_CREAT | O_EXCL, static_cast<mode_t>(owner.mode & 0777), 0u);
    if (sem == SEM_FAILED) {
        if (errno == EEXIST) return std::nullopt;
        throw_errno(errno, "creating semaphore '" + name + "'");
    }
    NamedSemaphore created(name, sem);
    try {
        // sem_open applies the umask and cannot set a group: fix both on the file it made. It was
        // created just now with O_EXCL, and O_NOFOLLOW refuses a symlink put in its place.
        FileDescriptor fd(check("opening semaphore file of '" + name + "'", [&] {
            return ::open(file_of(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }));
        if (owner.group) {
            check("setting the group of semaphore '" + name + "'",
                  [&] { return ::fchown(fd.get(), static_cast<uid_t>(-1), *owner.group); });
        }
        check("setting the mode of semaphore '" + name + "'",
              [&] { return ::fchmod(fd.get(), static_cast<mode_t>(owner.mode)); });
    } catch (...) {
        ::sem_unlink(path.c_str());
        throw;
    }
    return created;
}

std::optional<NamedSemaphore> NamedSemaphore::open_existing(const std::string& name) {
    sem_t* sem = ::sem_open(os_name(name).c_str(), 0);
    if (sem == SEM_FAILED) {
        if (errno == ENOENT) return std::nullopt;
        throw_errno(errno, "opening semaphore '" + name + "'");
    }
    return NamedSemaphore(name, sem);
}

bool NamedSemaphore::unlink(const std::string& name) noexcept { return ::sem_unlink(os_name(name).c_str()) == 0; }

bool NamedSemaphore::exists(const std::string& name) {
    struct stat st {};
    return ::lstat(file_of(name).c_str(), &st) == 0;
}

NamedSemaphore::NamedSemaphore(NamedSemaphore&& other) noexcept
    : name_(std::move(other.name_)), sem_(std::exchange(other.sem_, nullptr)) {}

NamedSemaphore& NamedSemaphore::operator=(NamedSemaphore&& other) noexcept {
    if (this != &other) {
        if (sem_ != nullptr) ::sem_close(sem_);
        name_ = std::move(other.name_);
        sem_ = std::exchange(other.sem_, nullptr);
    }
    return *this;
}

NamedSemaphore::~NamedSemaphore() {
    if (sem_ != nullptr) ::sem_close(sem_);
}

bool NamedSemaphore::try_wait() noexcept {
    for (;;) {
        if (::sem_trywait(sem_) == 0) return true;
        if (errno != EINTR) return false;
    }
}

bool NamedSemaphore::wait_until(Clock::time_point deadline) {
    // std::chrono::steady_clock is CLOCK_MONOTONIC with libstdc++.
    timespec ts{};
    if (deadline == Clock::time_point::max()) {
        ts.tv_sec = static_cast<time_t>(-1) > 0 ? static_cast<time_t>(-1) : static_cast<time_t>(~0ull >> 1);
    } else {
        const auto since_epoch = deadline.time_since_epoch();
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
        ts.tv_sec = static_cast<time_t>(secs.count());
        ts.tv_nsec = static_cast<long>(nanos.count());
    }
    for (;;) {
        if (::sem_clockwait(sem_, CLOCK_MONOTONIC, &ts) == 0) return true;
        if (errno == EINTR) continue;
        if (errno == ETIMEDOUT) return false;
        throw_errno(errno, "waiting on semaphore '" + name_ + "'");
    }
}


}  // namespace zerobuffer::posix
