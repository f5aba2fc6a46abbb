// Liveness verdicts as pure rules (docs/protocol.md §6). Evidence about a peer comes from three
// places: its liveness lock (held only by zerobuffer C++ peers, released by the kernel when the
// process dies, valid across PID namespaces), the lock file's flock (held by Python and
// zerobuffer readers while they live), and its PID (the only evidence for foreign peers; it is
// judged in this process's PID namespace, where it may mean nothing).
#pragma once

#include <cstdint>

namespace zerobuffer::detail {

enum class PeerState {
    absent,   // the PID field is 0: no peer attached (or it closed)
    alive,
    dead,
    unknown,  // the evidence cannot decide (a PID from another namespace); treated as alive
};

const char* to_string(PeerState state) noexcept;

struct PeerEvidence {
    std::uint64_t pid = 0;          // the OIEB field
    bool lock_held = false;         // its liveness lock is held now
    bool lock_seen_before = false;  // this peer (same PID) held its lock when first seen: it is ours
    enum class Pid { alive, dead, unjudgeable } pid_state = Pid::dead;  // the PID rule, if needed
};

// The verdict. Once a peer has been seen holding its lock, the lock alone decides: a recycled
// PID, a PID of another namespace or a PID 1 cannot keep a dead zerobuffer peer alive.
constexpr PeerState judge_peer(const PeerEvidence& e) noexcept {
    if (e.pid == 0) return PeerState::absent;
    if (e.lock_held) return PeerState::alive;
    if (e.lock_seen_before) return PeerState::dead;
    switch (e.pid_state) {
        case PeerEvidence::Pid::alive: return PeerState::alive;
        case PeerEvidence::Pid::dead: return PeerState::dead;
        case PeerEvidence::Pid::unjudgeable: return PeerState::unknown;
    }
    return PeerState::unknown;
}

// PID 1 in a PID field is almost always a process that is init of its own (container) PID
// namespace: from another namespace the PID says nothing about it.
constexpr bool pid_unjudgeable(std::uint64_t pid) noexcept { return pid == 1; }

}  // namespace zerobuffer::detail
