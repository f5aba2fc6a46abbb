// Resource use of one process over the counted part of a measurement: page faults, context
// switches and CPU time from getrusage, system calls from a perf counter on the
// raw_syscalls:sys_enter tracepoint (when the machine lets us open one).
#pragma once

#include <cstdint>
#include <string>

#include <sys/resource.h>

#include "common.h"

namespace sbs {

struct SyscallCounting {
    int tracepoint_id = -1;  // >= 0: counting works
    std::string method;      // how the tracepoint id was found
    std::string why_not;     // why syscalls are not counted
};

// Finds the id of raw_syscalls:sys_enter (in a mounted tracefs, else in a tracefs mounted in a
// private mount namespace of a short-lived helper process) and checks that this process may
// count it with perf_event_open. Run once, in the parent, before any measurement.
SyscallCounting probe_syscall_counting();

class ResourceMeter {
public:
    explicit ResourceMeter(int syscall_tracepoint);  // -1: no syscall counting
    ~ResourceMeter();
    ResourceMeter(const ResourceMeter&) = delete;
    ResourceMeter& operator=(const ResourceMeter&) = delete;

    void start();
    Resources stop() const;  // deltas since start()

private:
    std::uint64_t read_syscalls() const;
    int fd_ = -1;
    rusage start_usage_{};
    std::uint64_t start_syscalls_ = 0;
};

}  // namespace sbs
