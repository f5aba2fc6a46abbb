// Open-file-description locks on single bytes of a file (fcntl F_OFD_*), used as liveness
// tokens: the kernel drops them when the holding process dies, they are visible to every
// process that can open the file whatever its PID namespace, and they change no byte of it.
// A lock belongs to the open file description: a forked child that inherits the descriptor
// keeps it held.
#pragma once

#include <cstdint>

namespace zerobuffer::posix {

// Takes a write lock on byte `offset` of `fd` without waiting; false if another open file
// description holds it. Throws std::system_error on other failures.
bool try_lock_byte(int fd, std::int64_t offset);
// Releases this description's lock on the byte. Never throws.
void unlock_byte(int fd, std::int64_t offset) noexcept;
// Whether another open file description holds a lock on the byte (ours do not count).
// Works on a read-only descriptor. Throws std::system_error on failure.
bool byte_is_locked(int fd, std::int64_t offset);

}  // namespace zerobuffer::posix
