#include "core/liveness.h"

#include <limits>

namespace zerobuffer::detail {

PeerWatch::Status PeerWatch::check(std::uint64_t pid) {
    if (pid == 0) return Status::absent;
    if (pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) return Status::dead;
    const auto p = static_cast<pid_t>(pid);
    if (!identity_ || identity_->pid != p) {
        identity_ = posix::identify_process(p);
        if (!identity_) return Status::dead;
        ever_seen_ = true;
        return Status::alive;
    }
    return posix::probe_process(*identity_) == posix::ProcessState::alive ? Status::alive : Status::dead;
}

}  // namespace zerobuffer::detail
