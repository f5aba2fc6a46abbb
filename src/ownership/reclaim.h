// Removing what belongs to nobody under a buffer name. The only code that unlinks another
// process's objects: a stale buffer (its reader dead or gone), orphaned semaphores and lock
// files, and, only when forced, a half-created or foreign segment that was named first.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ownership/buffer_probe.h"

namespace zerobuffer::detail {

struct ReclaimOptions {
    bool dry_run = false;            // decide and report, remove nothing
    bool force_unusable = false;     // also remove half-created and foreign segments
    // How long to wait for the lock file of a reader that reads as dead but whose flock is
    // still held (a killed process whose threads are still exiting).
    std::chrono::milliseconds lock_grace{250};
};

struct ReclaimReport {
    BufferProbe probe;                  // what was found (before removal)
    std::vector<std::string> removed;   // paths removed (or that would be, with dry_run)
    std::string refused;                // why nothing was removed; empty if not refused
    bool done() const noexcept { return refused.empty(); }
};

// Takes NAME's lock file first (so a reader being created is never destroyed), probes, and
// removes what the rules allow. Never throws for what it finds; refusals are reported.
ReclaimReport reclaim_if_stale(const std::string& name, const ReclaimOptions& options = {});

// The removal step alone, for a caller that holds NAME's lock file and has just probed:
// unlinks the segment (if it is still the probed file) and both semaphores. Returns the paths.
std::vector<std::string> remove_buffer_objects(const BufferProbe& probe, bool dry_run);

}  // namespace zerobuffer::detail
