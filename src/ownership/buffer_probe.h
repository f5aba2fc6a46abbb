// What exists under a buffer name and who is behind it: the facts that core/buffer_state.h
// judges, plus what a report needs (owners, PIDs, process names, the OIEB). Opens the segment
// read-only and reads its header with pread: a hostile file is never mapped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/buffer_state.h"
#include "platform/posix/filesystem.h"
#include "zerobuffer/protocol.h"

namespace zerobuffer::detail {

struct PeerReport {
    std::uint64_t pid = 0;
    PeerState state = PeerState::absent;
    bool zerobuffer = false;     // holds a zerobuffer liveness lock
    bool pid_recycled = false;   // the PID now names a process younger than the segment
    std::string process;         // command name, if the PID is visible
};

struct BufferProbe {
    std::string name;
    BufferFacts facts;
    BufferState state = BufferState::absent;
    posix::FileInfo segment;                 // the segment file, if any
    std::optional<protocol::Oieb> oieb;      // its header, if it is at least 128 bytes
    std::string oieb_problem;                // why the header is not a valid v1 header
    PeerReport reader;
    PeerReport writer;
    std::optional<std::uint64_t> lock_holder;   // PID holding the lock file's flock
    posix::FileInfo lock_file;
    std::optional<std::uint64_t> csharp_lock_holder;  // PID holding a C# reader's lock for the name
    posix::FileInfo csharp_lock_file;                 // ${TMPDIR:-/tmp}/zerobuffer/locks/NAME.lock
};

struct ProbeOptions {
    bool lock_file_is_ours = false;  // the caller holds NAME.lock (a reader being created)
    // ... and took it over from a holder that is gone (posix::LockAttempt::inherited): a reader
    // that is neither holding its liveness lock nor this file is dead, whatever its PID says
    // (a PID 1 of a container, a PID of another namespace).
    bool lock_file_inherited = false;
};

// The PID rule, judged now with no history: alive, dead, recycled (alive but younger than
// `created`, the birth of the object it is supposed to have created: reported in
// `report.pid_recycled`, judged dead) or unjudgeable. Fills report.process for a live PID.
PeerEvidence::Pid judge_pid_now(std::uint64_t pid, std::optional<std::int64_t> created, PeerReport& report);

// Never throws for what it finds; throws std::system_error only for unexpected OS failures.
BufferProbe probe_buffer(const std::string& name, const ProbeOptions& options = {});

// One-line summary for messages: "reader pid 4242 (python3) alive, writer absent, lock held by pid 4242".
std::string describe(const BufferProbe& probe);

}  // namespace zerobuffer::detail
