// The reader's lock file (/tmp/zerobuffer/NAME.lock), held with flock(LOCK_EX|LOCK_NB) like the
// Python and C# peers. The directory is shared between users, so nothing here trusts what it
// finds: the directory must be owned by root or by us and be sticky if others may write to it,
// and a lock file is never a symlink, never another user's file, never a file with other links.
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

#include "platform/posix/filesystem.h"
#include "platform/posix/shared_memory.h"
#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

// Why an existing path cannot be used as our lock file or lock directory.
struct LockRefusal {
    std::string path;
    std::string reason;   // "is a symbolic link", "belongs to another user", ...
    FileInfo info;        // what is there
};

struct LockAttempt;

class LockFile {
public:
    enum class Outcome { acquired, held_elsewhere, refused };
    using Attempt = LockAttempt;

    // Creates the parent directory if needed (mode 01777, so every user can lock), validates it,
    // opens or creates `path` (O_NOFOLLOW) with `owner`, and takes an exclusive non-blocking
    // flock. Guards against the flock+unlink race: a lock on a file the path no longer names
    // is retried on the new file. Throws std::system_error for unexpected OS failures.
    static Attempt try_acquire(const std::string& path, const Ownership& owner);

    // Whether some process holds a flock on `path` now. Never creates anything; a symlink or
    // anything but a regular file counts as absent.
    enum class State { absent, free, held, unreadable };
    static State probe(const std::string& path);

    // Checks the lock directory without creating it: nullopt if it is usable or absent.
    static std::optional<LockRefusal> check_directory(const std::string& dir);

    LockFile(LockFile&&) noexcept = default;
    LockFile& operator=(LockFile&& other) noexcept;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;
    ~LockFile();

    // Unlinks the file while still holding the lock, then closes it. Idempotent.
    void release() noexcept;
    // Closes it (dropping the lock) and leaves the file where it is.
    void unlock_keep_file() noexcept { fd_.reset(); }
    const std::string& path() const noexcept { return path_; }

private:
    LockFile(std::string path, FileDescriptor fd) noexcept : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    FileDescriptor fd_;
};

struct LockAttempt {
    LockFile::Outcome outcome = LockFile::Outcome::refused;
    std::optional<LockFile> lock;         // when acquired
    std::optional<LockRefusal> refusal;   // when refused
    // Acquired on a file that existed before the call (not one we created): whoever made it no
    // longer holds it.
    bool inherited = false;
};

}  // namespace zerobuffer::posix
