// Watches the peer named by a PID field of the OIEB: remembers the identity (PID + start time)
// of each PID it sees, so a recycled PID reads as dead.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "platform/posix/process.h"

namespace zerobuffer::detail {

class PeerWatch {
public:
    enum class Status { absent, alive, dead };

    // Status of the peer whose PID is in the OIEB now. PID 0: absent. A PID not seen before is
    // identified now (it must be running now). Makes syscalls: call it off the fast path.
    Status check(std::uint64_t pid);
    bool ever_seen() const noexcept { return ever_seen_; }
    void mark_seen() noexcept { ever_seen_ = true; }
    std::uint64_t last_pid() const noexcept { return identity_ ? static_cast<std::uint64_t>(identity_->pid) : 0; }

    // Rate limiting for checks made on the fast path: true at most once per `interval`.
    bool due(std::chrono::steady_clock::time_point now, std::chrono::milliseconds interval) noexcept {
        if (now - last_check_ < interval) return false;
        last_check_ = now;
        return true;
    }

private:
    std::optional<posix::ProcessIdentity> identity_;
    bool ever_seen_ = false;
    std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace zerobuffer::detail
