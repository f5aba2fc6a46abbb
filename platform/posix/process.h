// Process liveness that survives PID reuse: a process is identified by its PID and its start
// time (field 22 of /proc/PID/stat), so a recycled PID does not look like the old process.
#pragma once

#include <cstdint>
#include <optional>

#include <sys/types.h>

namespace zerobuffer::posix {

struct ProcessIdentity {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // clock ticks after boot; 0 if /proc could not tell
    bool operator==(const ProcessIdentity&) const = default;
};

enum class ProcessState { alive, dead };

// The identity of a running process; nullopt if it does not exist or is a zombie.
std::optional<ProcessIdentity> identify_process(pid_t pid);

// Whether `who` is still running. A zombie (killed but not yet reaped) is dead. A process of
// another user (kill gives EPERM) is alive. A PID whose start time changed was recycled: dead.
ProcessState probe_process(const ProcessIdentity& who);

// Whether some process with this PID runs now (no identity check). PID 0 is never alive.
bool pid_alive(std::uint64_t pid);

pid_t current_pid() noexcept;

}  // namespace zerobuffer::posix
