// Two real processes per measurement: fork, pin, rendezvous, watchdog, reap, clean up.
//
// run_processes() maps one anonymous shared block, forks side A (the writer / sender, pinned to
// Settings::cpu[0]) and side B (the reader / receiver, cpu[1]), waits for both with a watchdog,
// kills and reaps whatever is left on every path, then removes any object whose name carries
// the run's tag from /dev/shm and /tmp/zerobuffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common.h"

namespace sbs {

struct SharedBlock;

// What a side's function sees of its measurement.
class Side {
public:
    Side(int index, SharedBlock* shared, const Settings& settings) noexcept
        : index_(index), shared_(shared), settings_(settings) {}

    int index() const noexcept { return index_; }
    const Settings& settings() const noexcept { return settings_; }
    Measurement& result() noexcept;            // shared by both sides: each fills its own fields
    std::byte* arena() noexcept;               // anonymous shared memory, 64-byte aligned
    std::string name(const std::string& suffix) const;  // a unique object name, the same in both sides

    // Rendezvous on steps 1, 2, 3 ...: arrive() publishes that this side reached `step`,
    // await_peer() waits until the other side reached it (and returns the step it reached).
    // await_peer throws when the other side failed or after 30 s.
    void arrive(std::uint64_t step) noexcept;
    std::uint64_t await_peer(std::uint64_t step) const;
    std::uint64_t sync(std::uint64_t step) {
        arrive(step);
        return await_peer(step);
    }

private:
    int index_;
    SharedBlock* shared_;
    const Settings& settings_;
};

using SideFn = std::function<void(Side&)>;

// Runs `a` and `b` (b may be empty: one process only) and returns the measurement they filled.
// ok is false, with the reason in error, if a side threw, crashed, or the watchdog fired.
Measurement run_processes(const Settings& settings, const SideFn& a, const SideFn& b, std::size_t arena_bytes,
                          double timeout_s);

// Blocks SIGCHLD, SIGINT, SIGTERM and SIGHUP in this (the parent) process, where run_processes
// and poll_interrupt pick them up, and ignores SIGPIPE. Call once at start, before any fork.
void install_signal_handling();
// The signal that asked this run to stop (SIGINT ...), or 0. Checks for a pending one.
int poll_interrupt();

// Removes every object in /dev/shm and /tmp/zerobuffer whose name contains `tag`; returns how
// many it removed. count_objects() only counts them.
int sweep_objects(const std::string& tag);
int count_objects(const std::string& tag);

// Objects a successful measurement left behind (removed by the sweep): a leak in the system.
int objects_left_by_successful_runs();

}  // namespace sbs
