// Names of the core's enumerations, for messages, health reports and the command line.
#include "core/buffer_state.h"
#include "core/peer_rules.h"

namespace zerobuffer::detail {

const char* to_string(PeerState state) noexcept {
    switch (state) {
        case PeerState::absent: return "absent";
        case PeerState::alive: return "alive";
        case PeerState::dead: return "dead";
        case PeerState::unknown: return "unknown";
    }
    return "unknown";
}

const char* to_string(BufferState state) noexcept {
    switch (state) {
        case BufferState::absent: return "absent";
        case BufferState::live: return "live";
        case BufferState::writer_gone: return "writer-gone";
        case BufferState::stale: return "stale";
        case BufferState::half_created: return "half-created";
        case BufferState::foreign: return "foreign";
        case BufferState::orphaned: return "orphaned";
        case BufferState::creating: return "creating";
    }
    return "unknown";
}

const char* to_string(LockFileState state) noexcept {
    switch (state) {
        case LockFileState::absent: return "absent";
        case LockFileState::free: return "free";
        case LockFileState::held: return "held";
        case LockFileState::unreadable: return "unreadable";
    }
    return "unknown";
}

}  // namespace zerobuffer::detail
