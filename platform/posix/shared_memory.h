// A POSIX shared-memory segment (/dev/shm/NAME): an open descriptor and, once mapped, a
// read-write mapping. Opening and mapping are separate steps so that a header can be checked
// with a small read before anything is mapped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "platform/posix/filesystem.h"
#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

struct Ownership {
    unsigned mode = 0600;               // exact mode given to the object
    std::optional<gid_t> group;         // group given to the object, if any
};

// The private temporary names create() uses where O_TMPFILE is unavailable:
// ".zb-tmp-<pid>-<counter>" in /dev/shm. The creator's PID, if `file_name` is one; nullopt
// otherwise. A file of that name is left behind only by a creator that died before publish().
std::optional<std::uint64_t> temporary_segment_pid(std::string_view file_name);

class SharedMemory {
public:
    // A new segment that no other process can open yet: an unnamed file in /dev/shm (O_TMPFILE),
    // or where that is unsupported a file under a private temporary name. It is sized, given
    // `owner`, allocated (with `prefault`: posix_fallocate, so a full /dev/shm fails here
    // instead of SIGBUS later) and mapped (MAP_POPULATE with `prefault`). publish() names it.
    // On failure nothing is left behind.
    static SharedMemory create(std::uint64_t size, const Ownership& owner, bool prefault);

    // Gives a created segment the name `name`, atomically and only if the name is free
    // (linkat / renameat2 RENAME_NOREPLACE). false: the name exists, nothing changed.
    bool publish(const std::string& name);

    // Opens /dev/shm/NAME without following a symlink and without mapping it; nullopt if there
    // is none. Throws std::system_error for other failures (EACCES: another user's segment).
    static std::optional<SharedMemory> open(const std::string& name, bool writable);

    // shm_unlink; false if it did not exist. Never throws.
    static bool unlink(const std::string& name) noexcept;

    SharedMemory(SharedMemory&& other) noexcept;
    SharedMemory& operator=(SharedMemory&& other) noexcept;
    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;
    ~SharedMemory();

    // Reads up to `n` bytes at `offset` of the file (pread); returns how many were read.
    std::size_t read_at(void* buffer, std::size_t n, std::uint64_t offset) const;
    // Maps the first `size` bytes read-write (the file must be at least that long).
    void map(std::uint64_t size, bool prefault);
    // Closes the descriptor (releasing its locks); the mapping stays. Idempotent.
    void close_descriptor() noexcept;

    FileInfo info() const { return inspect_descriptor(fd_.get()); }
    int fd() const noexcept { return fd_.get(); }
    std::byte* data() const noexcept { return data_; }
    std::uint64_t size() const noexcept { return size_; }
    const std::string& name() const noexcept { return name_; }

    // True if the file is now shorter than the mapping (another process truncated it): touching
    // the pages past its end raises SIGBUS. One fstat; false without a mapping or descriptor.
    bool truncated() const noexcept;

    // True if /dev/shm/<name> still names this very file (not a newer one of the same name).
    bool name_refers_to_this() const noexcept;

private:
    SharedMemory(std::string name, std::string temp_path, FileDescriptor fd) noexcept;
    void unmap() noexcept;

    std::string name_;        // published name; empty while unnamed
    std::string temp_path_;   // the private temporary name, when O_TMPFILE was unavailable
    FileDescriptor fd_;
    std::byte* data_ = nullptr;
    std::uint64_t size_ = 0;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace zerobuffer::posix
