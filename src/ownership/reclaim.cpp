#include "ownership/reclaim.h"

#include <thread>

#include <fmt/format.h>

#include "core/names.h"
#include "platform/posix/lock_file.h"
#include "platform/posix/named_semaphore.h"
#include "platform/posix/shared_memory.h"

namespace zerobuffer::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string refusal_text(const BufferProbe& p) {
    switch (p.state) {
        case BufferState::live:
        case BufferState::writer_gone:
            return fmt::format("'{}' is live: {}", p.name, describe(p));
        case BufferState::creating:
            return fmt::format("'{}' is being created by another process: {}", p.name, describe(p));
        case BufferState::half_created:
            return fmt::format("'{}' is a half-created segment ({}; {}): it may not be a ZeroBuffer buffer; "
                               "remove it with force", p.name, p.oieb_problem, posix::describe_owner(p.segment));
        case BufferState::foreign:
            return fmt::format("/dev/shm/{} is not a ZeroBuffer v1 buffer ({}; {} bytes, {}); remove it with force",
                               p.name, p.oieb_problem.empty() ? "not a regular file" : p.oieb_problem, p.segment.size,
                               posix::describe_owner(p.segment));
        default:
            return {};
    }
}

}  // namespace

std::vector<std::string> remove_buffer_objects(const BufferProbe& probe, bool dry_run) {
    std::vector<std::string> removed;
    const std::string& name = probe.name;
    if (probe.facts.segment) {
        // Unlink only the file that was probed, not one that replaced it since.
        const posix::FileInfo now = posix::inspect_path(segment_path(name));
        if (now.exists && now.dev == probe.segment.dev && now.ino == probe.segment.ino &&
            (dry_run || posix::SharedMemory::unlink(name))) {
            removed.push_back(segment_path(name));
        }
    }
    for (const std::string& sem : {sem_write_name(name), sem_read_name(name)}) {
        if (dry_run ? posix::NamedSemaphore::exists(sem) : posix::NamedSemaphore::unlink(sem)) {
            removed.push_back(semaphore_path(sem));
        }
    }
    return removed;
}

ReclaimReport reclaim_if_stale(const std::string& name, const ReclaimOptions& options) {
    ReclaimReport report;
    validate_name(name);
    const std::string lock = lock_path(name);
    const bool lock_existed = posix::inspect_path(lock).exists;

    // 1. The lock file, so that nobody creates a reader under us while we look and remove.
    std::optional<posix::LockFile> held;
    bool lock_inherited = false;
    const auto deadline = Clock::now() + options.lock_grace;
    for (;;) {
        auto attempt = posix::LockFile::try_acquire(lock, {0600, std::nullopt});
        if (attempt.outcome == posix::LockFile::Outcome::acquired) {
            held = std::move(attempt.lock);
            lock_inherited = attempt.inherited;
            break;
        }
        report.probe = probe_buffer(name);
        if (attempt.outcome == posix::LockFile::Outcome::refused) {
            const auto& r = *attempt.refusal;
            report.refused = fmt::format("the lock file {} {} ({}); it cannot be used or removed safely",
                                         r.path, r.reason, posix::describe_owner(r.info));
            return report;
        }
        // Held by someone: a live reader, or a killed one whose flock has not drained yet.
        if (reader_may_live(report.probe.facts) && report.probe.reader.state != PeerState::dead &&
            report.probe.reader.state != PeerState::absent) {
            report.refused = refusal_text(report.probe);
            if (report.refused.empty()) report.refused = fmt::format("'{}' is in use: {}", name, describe(report.probe));
            return report;
        }
        if (Clock::now() >= deadline) {
            report.refused = fmt::format("'{}': its lock file is held ({}), although its reader reads as gone", name,
                                         describe(report.probe));
            return report;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }

    // Leave a lock file that was there before as it is, unless it is removed below.
    struct KeepExisting {
        std::optional<posix::LockFile>& lock;
        bool existed;
        ~KeepExisting() {
            if (lock && existed) lock->unlock_keep_file();
        }
    } keep{held, lock_existed};

    // 2. What is there, judged with the lock ours.
    report.probe = probe_buffer(name, {.lock_file_is_ours = true, .lock_file_inherited = lock_inherited});
    BufferState state = report.probe.state;
    if (state == BufferState::absent && lock_existed) state = report.probe.state = BufferState::orphaned;  // the lock file
    const bool unusable = state == BufferState::half_created || state == BufferState::foreign;
    if (!reclaimable(state) && !(unusable && options.force_unusable)) {
        report.refused = refusal_text(report.probe);
        if (report.refused.empty() && state == BufferState::absent) return report;  // nothing to do; our lock file goes
        if (report.refused.empty()) report.refused = fmt::format("'{}' is {}", name, to_string(state));
        return report;
    }

    // 3. Remove: segment and semaphores, then the lock file (unlinked while still held).
    report.removed = remove_buffer_objects(report.probe, options.dry_run);
    if (lock_existed) report.removed.push_back(lock);
    if (!options.dry_run) held->release();
    return report;
}

}  // namespace zerobuffer::detail
