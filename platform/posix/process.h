// Processes: liveness that survives PID reuse (a process is its PID plus its start time, field
// 22 of /proc/PID/stat), names for reports, and who holds a flock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

// When the process started, in seconds since the epoch (boot time + its start ticks); nullopt
// if /proc cannot tell.
std::optional<std::int64_t> start_time_seconds(const ProcessIdentity& who);

// Whether some process with this PID runs now (no identity check). PID 0 is never alive.
bool pid_alive(std::uint64_t pid);

// The command name of a process (/proc/PID/comm), or empty if it cannot be read.
std::string process_name(std::uint64_t pid);

// The PID (in this PID namespace) of a process holding a flock on the file (dev, ino), from
// /proc/locks; nullopt if none is listed.
std::optional<std::uint64_t> flock_holder(dev_t dev, ino_t ino);

pid_t current_pid() noexcept;

}  // namespace zerobuffer::posix
