#include "ownership/peer_watch.h"

#include <limits>

#include "platform/posix/slot_lock.h"

namespace zerobuffer::detail {
namespace {

PeerEvidence::Pid judge_pid(std::uint64_t pid, std::optional<posix::ProcessIdentity>& identity, bool first_sight) {
    if (pid_unjudgeable(pid)) return PeerEvidence::Pid::unjudgeable;
    if (pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) return PeerEvidence::Pid::dead;
    if (first_sight) {
        identity = posix::identify_process(static_cast<pid_t>(pid));
        return identity ? PeerEvidence::Pid::alive : PeerEvidence::Pid::dead;
    }
    if (!identity) return PeerEvidence::Pid::dead;
    return posix::probe_process(*identity) == posix::ProcessState::alive ? PeerEvidence::Pid::alive
                                                                         : PeerEvidence::Pid::dead;
}

}  // namespace

PeerState PeerWatch::check(std::uint64_t pid) {
    const bool first_sight = pid != pid_;
    if (first_sight) {
        pid_ = pid;
        lock_seen_ = false;
        identity_.reset();
    }
    PeerEvidence e;
    e.pid = pid;
    if (pid != 0) {
        e.lock_held = fd_ >= 0 && posix::byte_is_locked(fd_, lock_offset_);
        if (e.lock_held && first_sight) lock_seen_ = true;
        e.lock_seen_before = lock_seen_;
        // The PID rule matters only for a peer that never showed its lock.
        if (!e.lock_held && !lock_seen_) e.pid_state = judge_pid(pid, identity_, first_sight);
        else if (first_sight && pid <= static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) {
            identity_ = posix::identify_process(static_cast<pid_t>(pid));  // for reports only
        }
    }
    last_ = judge_peer(e);
    if (last_ == PeerState::alive || last_ == PeerState::unknown) ever_seen_ = true;
    return last_;
}

}  // namespace zerobuffer::detail

