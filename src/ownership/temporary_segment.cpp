#include "ownership/temporary_segment.h"

#include <fmt/format.h>

#include "core/names.h"
#include "platform/posix/process.h"
#include "platform/posix/shared_memory.h"
#include "platform/posix/slot_lock.h"

namespace zerobuffer::detail {

std::optional<TemporaryProbe> probe_temporary_segment(const std::string& file_name) {
    const auto pid = posix::temporary_segment_pid(file_name);
    if (!pid) return std::nullopt;
    TemporaryProbe p;
    p.file_name = file_name;
    p.creator.pid = *pid;
    auto shm = posix::SharedMemory::open(file_name, false);
    if (!shm) return p;
    p.exists = true;
    p.file = shm->info();
    PeerEvidence e;
    e.pid = *pid;
    e.lock_held = p.file.regular && posix::byte_is_locked(shm->fd(), protocol::kReaderLockOffset);
    p.creator.zerobuffer = e.lock_held;
    if (e.lock_held) {
        p.creator.process = posix::process_name(*pid);
    } else {
        e.pid_state = judge_pid_now(*pid, posix::birth_time(shm->fd()), p.creator);
    }
    p.creator.state = judge_peer(e);
    return p;
}

bool temporary_reclaimable(const TemporaryProbe& probe) noexcept {
    return probe.exists && probe.creator.state == PeerState::dead;
}

TemporaryReclaim reclaim_temporary_segment(const std::string& file_name, bool dry_run) {
    TemporaryReclaim result;
    auto probe = probe_temporary_segment(file_name);
    if (!probe) {
        result.refused = fmt::format("'{}' is not a temporary segment name (.zb-tmp-<pid>-<n>)", file_name);
        return result;
    }
    result.probe = std::move(*probe);
    const TemporaryProbe& p = result.probe;
    if (!p.exists) return result;
    if (!temporary_reclaimable(p)) {
        result.refused = fmt::format(
            "{} belongs to pid {}{}, which is {}: a reader is creating a buffer", segment_path(file_name),
            p.creator.pid, p.creator.process.empty() ? "" : " (" + p.creator.process + ")", to_string(p.creator.state));
        return result;
    }
    // Unlink only the file that was judged, not one that replaced it since.
    const posix::FileInfo now = posix::inspect_path(segment_path(file_name));
    if (now.exists && now.dev == p.file.dev && now.ino == p.file.ino && (dry_run || posix::SharedMemory::unlink(file_name))) {
        result.removed.push_back(segment_path(file_name));
    }
    return result;
}

}  // namespace zerobuffer::detail
