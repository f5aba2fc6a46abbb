// Watches one peer of a mapped segment (its writer, for a reader; its reader, for a writer):
// gathers the evidence core/peer_rules.h judges. The liveness lock is tested on the segment's
// descriptor; a PID is identified (PID + start time) the first time it is seen, so a recycled
// PID reads as dead. Makes syscalls: call it off the per-frame path.
#pragma once

#include <cstdint>
#include <optional>

#include "core/peer_rules.h"
#include "platform/posix/process.h"

namespace zerobuffer::detail {

class PeerWatch {
public:
    // `fd`: a descriptor of the segment; `lock_offset`: the peer's liveness lock byte.
    PeerWatch(int fd, std::int64_t lock_offset) noexcept : fd_(fd), lock_offset_(lock_offset) {}
    PeerWatch() noexcept = default;

    // The peer whose PID is in the OIEB now.
    PeerState check(std::uint64_t pid);
    // Identifies `pid` now (at attach time), so that its later death is seen even if the PID
    // is recycled before the next check.
    void identify(std::uint64_t pid) { (void)check(pid); }

    // The current peer holds a liveness lock: it is a zerobuffer C++ process.
    bool cooperative() const noexcept { return lock_seen_; }
    bool ever_seen() const noexcept { return ever_seen_; }
    void mark_seen() noexcept { ever_seen_ = true; }
    std::uint64_t last_pid() const noexcept { return pid_; }
    PeerState last_state() const noexcept { return last_; }

private:
    int fd_ = -1;
    std::int64_t lock_offset_ = 0;
    std::uint64_t pid_ = 0;                            // the PID the facts below are about
    bool lock_seen_ = false;                           // it held its lock when first seen
    std::optional<posix::ProcessIdentity> identity_;   // its identity, if the PID rule is needed
    bool ever_seen_ = false;
    PeerState last_ = PeerState::absent;
};

}  // namespace zerobuffer::detail
