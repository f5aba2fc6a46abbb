#include "platform/posix/named_semaphore.h"

#include <cerrno>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {
std::string os_name(const std::string& name) { return "/" + name; }
}  // namespace

NamedSemaphore NamedSemaphore::create_fresh(const std::string& name, std::optional<unsigned> mode) {
    const std::string path = os_name(name);
    ::sem_unlink(path.c_str());
    sem_t* sem = ::sem_open(path.c_str(), O_CREAT | O_EXCL, 0666, 0u);
    if (sem == SEM_FAILED) throw_errno(errno, "creating semaphore '" + name + "'");
    if (mode) {
        // glibc keeps the semaphore in /dev/shm/sem.<name without the slash>.
        const std::string file = "/dev/shm/sem." + name;
        if (::chmod(file.c_str(), *mode) != 0) {
            const int err = errno;
            ::sem_close(sem);
            ::sem_unlink(path.c_str());
            throw_errno(err, "chmod of semaphore '" + name + "'");
        }
    }
    return NamedSemaphore(name, sem);
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

void NamedSemaphore::post() noexcept { ::sem_post(sem_); }

bool NamedSemaphore::try_wait() noexcept {
    for (;;) {
        if (::sem_trywait(sem_) == 0) return true;
        if (errno != EINTR) return false;
    }
}

bool NamedSemaphore::wait_until(Clock::time_point deadline) {
    const auto since_epoch = deadline.time_since_epoch();
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(secs.count());
    ts.tv_nsec = static_cast<long>(nanos.count());
    // std::chrono::steady_clock is CLOCK_MONOTONIC with libstdc++.
    for (;;) {
        if (::sem_clockwait(sem_, CLOCK_MONOTONIC, &ts) == 0) return true;
        if (errno == EINTR) continue;
        if (errno == ETIMEDOUT) return false;
        throw_errno(errno, "waiting on semaphore '" + name_ + "'");
    }
}

int NamedSemaphore::value() const noexcept {
    int v = 0;
    ::sem_getvalue(sem_, &v);
    return v;
}

}  // namespace zerobuffer::posix
