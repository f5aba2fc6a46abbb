#include "platform/posix/named_semaphore.h"

#include <cerrno>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {
namespace {
std::string os_name(const std::string& name) { return "/" + name; }
// glibc keeps a named semaphore in /dev/shm/sem.<name without the slash>.
std::string file_of(const std::string& name) { return "/dev/shm/sem." + name; }
}  // namespace

namespace {

// A glibc named semaphore is a file /dev/shm/sem.NAME holding a process-shared sem_t. sem_open
// (O_CREAT) writes one under a temporary name and links it into place; a process killed in
// between leaves that temporary file behind for good. This builds the same file unnamed
// (O_TMPFILE), complete, and names it with linkat, which is atomic and fails if the name
// exists: a kill at any moment leaves nothing. Returns false where the kernel or /proc cannot
// do this, so the caller falls back to sem_open; throws on other failures. `exists`: the name
// was taken.
bool create_unnamed_then_link(const std::string& name, const Ownership& owner, bool& exists) {
    if (::access("/proc/self/fd", X_OK) != 0) return false;
    const int raw = retry_eintr([] { return ::open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600); });
    if (raw < 0) return false;
    FileDescriptor fd(raw);
    const std::string what = "semaphore '" + name + "'";
    if (owner.group) check("setting the group of " + what, [&] { return ::fchown(fd.get(), static_cast<uid_t>(-1), *owner.group); });
    check("setting the mode of " + what, [&] { return ::fchmod(fd.get(), static_cast<mode_t>(owner.mode)); });
    check("sizing " + what, [&] { return ::ftruncate(fd.get(), sizeof(sem_t)); });
    void* p = ::mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) throw_errno(errno, "mapping " + what);
    const int init = ::sem_init(static_cast<sem_t*>(p), 1, 0);
    const int init_error = errno;
    ::munmap(p, sizeof(sem_t));
    if (init != 0) throw_errno(init_error, "initialising " + what);
    const std::string self = "/proc/self/fd/" + std::to_string(fd.get());
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, file_of(name).c_str(), AT_SYMLINK_FOLLOW) != 0) {
        if (errno != EEXIST) throw_errno(errno, "naming " + what);
        exists = true;
    }
    return true;
}

}  // namespace

std::optional<NamedSemaphore> NamedSemaphore::create(const std::string& name, const Ownership& owner) {
    const std::string path = os_name(name);
    bool exists = false;
    if (create_unnamed_then_link(name, owner, exists)) {
        if (exists) return std::nullopt;
        auto opened = open_existing(name);
        if (!opened) throw_errno(ENOENT, "opening semaphore '" + name + "' just created (removed by another process?)");
        return opened;
    }
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
