// Entries appearing in a directory: an inotify instance watching one directory for names created
// in it or moved into it, and a plain listing of a directory by name prefix. Used by topic
// discovery to see subscriber buffers appear in /dev/shm.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

class DirectoryWatch {
public:
    // Watches `directory` for entries created in it or renamed into it (IN_CREATE, IN_MOVED_TO;
    // a new shared-memory segment is one of these whichever way it was made). The descriptor is
    // non-blocking and close-on-exec. nullopt when inotify is unavailable here (no kernel
    // support, or the per-user instance or watch limit is reached: the caller falls back to
    // listing). Throws std::system_error for other failures.
    static std::optional<DirectoryWatch> open(const std::string& directory);

    DirectoryWatch(DirectoryWatch&&) noexcept = default;
    DirectoryWatch& operator=(DirectoryWatch&&) noexcept = default;
    DirectoryWatch(const DirectoryWatch&) = delete;
    DirectoryWatch& operator=(const DirectoryWatch&) = delete;
    ~DirectoryWatch() = default;

    // Readable (poll) when events are pending.
    int fd() const noexcept { return fd_.get(); }

    // Reads every pending event without blocking and calls `on_name` with each entry's name.
    // Returns false if events were lost (the kernel's queue overflowed, or the directory itself
    // went away): the caller must list the directory to catch up. Never throws for EAGAIN;
    // throws std::system_error for other read failures.
    bool drain(const std::function<void(std::string_view name)>& on_name);

private:
    explicit DirectoryWatch(FileDescriptor fd) noexcept : fd_(std::move(fd)) {}
    FileDescriptor fd_;
};

// The names of the entries of `directory` that start with `prefix` ("." and ".." excluded), in
// no particular order. An absent or unreadable directory gives an empty list.
std::vector<std::string> list_directory(const std::string& directory, std::string_view prefix);

}  // namespace zerobuffer::posix
