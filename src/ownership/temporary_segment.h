// Unpublished temporary segments, /dev/shm/.zb-tmp-<pid>-<n>: where O_TMPFILE is unavailable a
// reader creates its segment under such a name and renames it to the buffer's name once it is
// complete (platform/posix/shared_memory.h). One is left behind only when its creator died in
// between. These rules decide whether that is so, and remove it if it is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ownership/buffer_probe.h"
#include "platform/posix/filesystem.h"

namespace zerobuffer::detail {

struct TemporaryProbe {
    std::string file_name;   // ".zb-tmp-<pid>-<n>"
    bool exists = false;
    posix::FileInfo file;
    // The creator named by the file: alive while it holds the reader liveness lock on the file
    // (taken right after creation) or, before that, while its PID runs and is older than the file.
    PeerReport creator;
};

// nullopt if `file_name` is not a temporary segment name. Opens the file read-only, never maps
// it. Throws std::system_error for unexpected OS failures (EACCES: another user's file).
std::optional<TemporaryProbe> probe_temporary_segment(const std::string& file_name);

// Provably nobody's: it exists and its creator is dead.
bool temporary_reclaimable(const TemporaryProbe& probe) noexcept;

struct TemporaryReclaim {
    TemporaryProbe probe;
    std::vector<std::string> removed;   // the path, when removed (or when it would be, with dry_run)
    std::string refused;                // why it was left; empty if not refused
};

// Removes the file if its creator is dead (and it is still the file that was probed). Never
// throws for what it finds; throws std::system_error for unexpected OS failures.
TemporaryReclaim reclaim_temporary_segment(const std::string& file_name, bool dry_run);

}  // namespace zerobuffer::detail
