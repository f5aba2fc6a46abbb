// The shared-memory part of a BufferHealth snapshot and a peer's status judged now, common to
// Reader and Writer (the stateful judgement of a peer during waits is ownership/peer_watch.h).
#pragma once

#include <cstdint>

#include "core/oieb_view.h"
#include "zerobuffer/health.h"

namespace zerobuffer::detail {

// The peer in a PID field: its liveness lock on `fd` (if fd >= 0) decides; a PID that was seen
// holding the lock (`cooperative_pid`) and no longer does is dead; else the PID rule.
PeerHealth peer_status_now(std::uint64_t pid, int fd, std::int64_t lock_offset, std::uint64_t cooperative_pid);

// S and M are the caller's own validated copies, never re-read from shared memory.
// `cooperative_writer` / `cooperative_reader`: as for peer_status_now.
BufferHealth shared_health(const OiebView& oieb, std::uint64_t payload_size, std::uint64_t metadata_size, int fd,
                           std::uint64_t cooperative_writer, std::uint64_t cooperative_reader);

}  // namespace zerobuffer::detail
