#include "platform/posix/lock_file.h"

#include <cerrno>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace zerobuffer::posix {
namespace {

std::string parent_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

LockRefusal refuse(const std::string& path, std::string reason, const FileInfo& info) {
    return {path, std::move(reason), info};
}

// Creates the shared lock directory if needed, then validates what is there.
std::optional<LockRefusal> prepare_directory(const std::string& dir) {
    if (::mkdir(dir.c_str(), 01777) == 0) {
        ::chmod(dir.c_str(), 01777);  // mkdir applies the umask; a shared lock directory must not
    } else if (errno != EEXIST) {
        throw_errno(errno, "creating lock directory '" + dir + "'");
    }
    return LockFile::check_directory(dir);
}

// Whether `info` (of an open lock file) may serve as our lock.
std::optional<LockRefusal> check_lock_file(const std::string& path, const FileInfo& info) {
    if (!info.regular) return refuse(path, "is not a regular file", info);
    if (info.uid != effective_uid()) return refuse(path, "belongs to another user", info);
    if (info.links != 1) return refuse(path, "has other hard links (it may be another file in disguise)", info);
    return std::nullopt;
}

}  // namespace

std::optional<LockRefusal> LockFile::check_directory(const std::string& dir) {
    const FileInfo info = inspect_path(dir);
    if (!info.exists) return std::nullopt;
    if (info.symlink) return refuse(dir, "is a symbolic link", info);
    if (!info.directory) return refuse(dir, "is not a directory", info);
    if (info.uid != 0 && info.uid != effective_uid()) {
        return refuse(dir, "is owned by another user (it must belong to root or to this user)", info);
    }
    if ((info.mode & 0022) != 0 && (info.mode & 01000) == 0) {
        return refuse(dir, "is writable by other users but not sticky (they could replace our lock files)", info);
    }
    return std::nullopt;
}

LockFile::Attempt LockFile::try_acquire(const std::string& path, const Ownership& owner) {
    Attempt attempt;
    if (auto refusal = prepare_directory(parent_of(path))) {
        attempt.refusal = std::move(refusal);
        return attempt;
    }
    // An existing file whose flock we get was left by a holder that is gone (readers hold it for
    // their lifetime): evidence about a dead reader that no PID can give (attempt.inherited).
    const FileInfo existing = inspect_path(path);
    for (int tries = 0; tries < 16; ++tries) {
        const int raw = retry_eintr([&] {
            return ::open(path.c_str(), O_CREAT | O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
                          static_cast<mode_t>(owner.mode & 0777));
        });
        if (raw < 0) {
            if (errno == ELOOP) {
                attempt.refusal = refuse(path, "is a symbolic link", inspect_path(path));
                return attempt;
            }
            if (errno == EACCES || errno == EPERM) {
                attempt.refusal = refuse(path, "cannot be opened by this user", inspect_path(path));
                return attempt;
            }
            if (errno == EISDIR) {
                attempt.refusal = refuse(path, "is a directory, not a regular file", inspect_path(path));
                return attempt;
            }
            throw_errno(errno, "opening lock file '" + path + "'");
        }
        FileDescriptor fd(raw);
        const FileInfo held = inspect_descriptor(fd.get());
        if (auto refusal = check_lock_file(path, held)) {
            attempt.refusal = std::move(refusal);
            return attempt;
        }
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) {
                attempt.outcome = Outcome::held_elsewhere;
                return attempt;
            }
            if (errno == EINTR) continue;
            throw_errno(errno, "locking '" + path + "'");
        }
        // The previous holder may have unlinked the file between our open and our flock; then
        // we hold a lock nobody else can see. Only a lock on the file the path names now counts.
        const FileInfo named = inspect_path(path);
        if (!named.exists || named.ino != held.ino || named.dev != held.dev) continue;
        if (owner.group) ::fchown(fd.get(), static_cast<uid_t>(-1), *owner.group);
        ::fchmod(fd.get(), static_cast<mode_t>(owner.mode));  // our own file (checked above)
        attempt.outcome = Outcome::acquired;
        attempt.inherited = existing.exists && existing.regular && existing.dev == held.dev && existing.ino == held.ino;
        attempt.lock = LockFile(path, std::move(fd));
        return attempt;
    }
    attempt.outcome = Outcome::held_elsewhere;  // replaced under us again and again
    return attempt;
}

LockFile::State LockFile::probe(const std::string& path) {
    FileDescriptor fd(retry_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK); }));
    if (!fd.valid()) return (errno == EACCES || errno == EPERM) ? State::unreadable : State::absent;
    if (!inspect_descriptor(fd.get()).regular) return State::absent;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) {
        ::flock(fd.get(), LOCK_UN);
        return State::free;
    }
    return errno == EWOULDBLOCK ? State::held : State::unreadable;
}

LockFile& LockFile::operator=(LockFile&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        fd_ = std::move(other.fd_);
    }
    return *this;
}

LockFile::~LockFile() { release(); }

void LockFile::release() noexcept {
    if (!fd_.valid()) return;
    // Unlink first, while the lock is still ours: a process that opened the old file and then
    // gets the lock sees that the path no longer names it and retries (see try_acquire).
    ::unlink(path_.c_str());
    fd_.reset();
}

}  // namespace zerobuffer::posix
