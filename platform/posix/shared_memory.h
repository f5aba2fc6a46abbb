// A POSIX shared-memory object mapped read-write into this process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <sys/types.h>

#include "platform/posix/syscall.h"

namespace zerobuffer::posix {

class SharedMemory {
public:
    // Creates /dev/shm/<name> with O_EXCL, sizes it to `size` bytes and maps it. With `prefault`
    // the pages are allocated (fallocate: ENOSPC becomes an error now, not SIGBUS later) and
    // mapped with MAP_POPULATE. `mode`: exact mode via fchmod; unset: 0666 filtered by umask.
    // Returns nullopt if the object exists already. On failure, removes what it created.
    static std::optional<SharedMemory> create_exclusive(const std::string& name, std::uint64_t size,
                                                        std::optional<unsigned> mode, bool prefault);

    // Opens and maps an existing object at its current size. Returns nullopt if there is none.
    static std::optional<SharedMemory> open_existing(const std::string& name, bool prefault);

    // shm_unlink; false if it did not exist. Never throws.
    static bool unlink(const std::string& name) noexcept;

    SharedMemory(SharedMemory&& other) noexcept;
    SharedMemory& operator=(SharedMemory&& other) noexcept;
    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;
    ~SharedMemory();

    std::byte* data() const noexcept { return data_; }
    std::uint64_t size() const noexcept { return size_; }
    const std::string& name() const noexcept { return name_; }

    // True if /dev/shm/<name> still names this very object (not a newer one of the same name).
    bool name_refers_to_this() const noexcept;

private:
    SharedMemory(std::string name, FileDescriptor fd, std::byte* data, std::uint64_t size) noexcept;
    void unmap() noexcept;

    std::string name_;
    FileDescriptor fd_;
    std::byte* data_ = nullptr;
    std::uint64_t size_ = 0;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

}  // namespace zerobuffer::posix
