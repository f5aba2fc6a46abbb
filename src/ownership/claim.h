// Creating a buffer: a Reader claims the name. Every step that could meet another process's
// objects decides with the ownership rules first and touches nothing it did not create unless
// the rules say the name is provably nobody's (docs/protocol.md §1.5).
#pragma once

#include <optional>
#include <string>

#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/config.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

// A buffer created and owned by this process: its lock file (flock held), its segment (mapped,
// OIEB initialised and published, reader liveness lock held) and both semaphores.
struct ClaimedBuffer {
    posix::LockFile lock;
    posix::SharedMemory segment;
    posix::NamedSemaphore sem_write;
    posix::NamedSemaphore sem_read;
    protocol::Layout layout;
};

// Mode and group of the OS objects for `config` (docs/operations.md). Throws
// InvalidArgumentException for an unknown group or one this user does not belong to.
posix::Ownership ownership_for(std::string_view name, const BufferConfig& config);

// Creates buffer NAME for a reader with PID `pid`. Throws ReaderAlreadyConnectedException (a
// live reader owns the name; everything of it is left as it was), NameBlockedException (an
// object that is not a usable buffer, or another user's, occupies the name), InvalidArgument
// (the buffer does not fit /dev/shm), SystemError. On any throw nothing of ours is left behind.
ClaimedBuffer claim_buffer(const std::string& name, const BufferConfig& config, const ReaderOptions& options,
                           std::uint64_t pid);

}  // namespace zerobuffer::detail
