// The reader's lock file, held with flock(LOCK_EX|LOCK_NB) like the Python and C# peers.
#pragma once

#include <optional>
#include <string>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

class LockFile {
public:
    // Creates the parent directory if needed (mode 01777 so other users can lock too), opens
    // or creates `path` and takes an exclusive non-blocking flock. Returns nullopt if another
    // holder has it. Guards against the flock+unlink race: if the path was unlinked or replaced
    // while we waited for the lock, it retries on the new file.
    static std::optional<LockFile> try_acquire(const std::string& path, std::optional<unsigned> mode);

    // True if some process holds a flock on `path` right now (the file is not created).
    static bool is_held(const std::string& path);

    // The file's text, or nullopt if it cannot be read. At most `limit` bytes.
    static std::optional<std::string> read_text(const std::string& path, std::size_t limit = 256);

    // A short note attached to the lock file for other processes of this library: kept in the
    // extended attribute user.zerobuffer (no data block to allocate and discard), or as the
    // file's content where the file system has no user xattrs. Never part of the wire format.
    void write_note(const std::string& text);
    static std::optional<std::string> read_note(const std::string& path);

    LockFile(LockFile&&) noexcept = default;
    LockFile& operator=(LockFile&& other) noexcept;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;
    ~LockFile();

    // Replaces the file's content (local coordination only, never part of the wire format).
    void write_text(const std::string& text);
    // Unlinks the file while still holding the lock, then closes it. Idempotent.
    void release() noexcept;
    const std::string& path() const noexcept { return path_; }

private:
    LockFile(std::string path, FileDescriptor fd) noexcept : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    FileDescriptor fd_;
};

}  // namespace zerobuffer::posix
