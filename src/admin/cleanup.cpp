// remove_if_stale and cleanup_stale: the ownership module's reclaim (src/ownership/reclaim.h,
// temporary_segment.h) decides and removes; this file turns its answers into a report.
#include <fnmatch.h>

#include <exception>

#include <fmt/format.h>

#include "admin/admin_internal.h"
#include "core/buffer_state.h"
#include "core/names.h"
#include "ownership/reclaim.h"
#include "ownership/temporary_segment.h"
#include "platform/posix/shared_memory.h"

namespace zerobuffer::admin {
namespace {

// Objects the probe saw that are still there although they were not removed: another user's
// objects in the sticky /dev/shm, or something that is not a semaphore at all.
std::vector<std::string> left_behind(const detail::BufferProbe& probe, const std::vector<std::string>& removed) {
    std::vector<std::string> left;
    auto check = [&](bool existed, const std::string& path) {
        if (!existed) return;
        for (const std::string& r : removed) {
            if (r == path) return;
        }
        if (posix::inspect_path(path).exists) left.push_back(path);
    };
    const std::string& name = probe.name;
    if (probe.facts.segment) {
        const posix::FileInfo now = posix::inspect_path(detail::segment_path(name));
        // A segment with another inode was created after the removal: not ours to report.
        check(now.dev == probe.segment.dev && now.ino == probe.segment.ino, detail::segment_path(name));
    }
    check(probe.facts.sem_write, detail::semaphore_path(detail::sem_write_name(name)));
    check(probe.facts.sem_read, detail::semaphore_path(detail::sem_read_name(name)));
    return left;
}

std::string describe_left(const std::vector<std::string>& left) {
    std::string text = "could not remove";
    for (const std::string& path : left) {
        const posix::FileInfo f = posix::inspect_path(path);
        text += fmt::format(" {} ({})", path, f.exists ? posix::describe_owner(f) : "gone since");
    }
    return text + "; its owner or root can remove it";
}

CleanupEntry remove_temporary(const std::string& file_name, const CleanupOptions& options) {
    CleanupEntry e;
    e.name = file_name;
    const detail::TemporaryReclaim r = detail::reclaim_temporary_segment(file_name, options.dry_run);
    e.state = !r.probe.exists                         ? BufferState::absent
              : detail::temporary_reclaimable(r.probe) ? BufferState::orphaned
                                                       : BufferState::creating;
    e.removed = r.removed;
    if (!r.refused.empty()) {
        e.outcome = CleanupOutcome::refused;
        e.reason = r.refused;
    } else if (!e.removed.empty()) {
        e.outcome = CleanupOutcome::removed;
    } else if (r.probe.exists && posix::inspect_path(detail::segment_path(file_name)).exists && !options.dry_run) {
        e.outcome = CleanupOutcome::failed;
        e.reason = describe_left({detail::segment_path(file_name)});
    }
    return e;
}

CleanupEntry remove_buffer(const std::string& name, const CleanupOptions& options) {
    CleanupEntry e;
    e.name = name;
    e.topic = topic_of(name);
    detail::ReclaimOptions ro;
    ro.dry_run = options.dry_run;
    ro.force_unusable = options.force;
    ro.lock_grace = options.lock_grace;
    const detail::ReclaimReport r = detail::reclaim_if_stale(name, ro);
    e.state = internal::public_state(r.probe.state);
    e.removed = r.removed;
    if (!r.done()) {
        e.outcome = CleanupOutcome::refused;
        e.reason = r.refused;
        return e;
    }
    e.outcome = e.removed.empty() ? CleanupOutcome::nothing_to_do : CleanupOutcome::removed;
    if (!options.dry_run) {
        const auto left = left_behind(r.probe, e.removed);
        if (!left.empty()) {
            e.outcome = CleanupOutcome::failed;
            e.reason = describe_left(left);
        }
    }
    return e;
}

// One name; every exception becomes a failed entry.
CleanupEntry remove_one(const std::string& name, const CleanupOptions& options) {
    try {
        return posix::temporary_segment_pid(name) ? remove_temporary(name, options) : remove_buffer(name, options);
    } catch (const std::exception& ex) {
        CleanupEntry e;
        e.name = name;
        e.topic = topic_of(name);
        e.state = BufferState::inaccessible;
        e.outcome = CleanupOutcome::failed;
        e.reason = ex.what();
        return e;
    }
}

bool in_use(BufferState state) noexcept {
    return state == BufferState::live || state == BufferState::writer_gone || state == BufferState::creating;
}

}  // namespace

CleanupReport remove_if_stale(const std::string& name, const CleanupOptions& options) {
    validate_buffer_name(name);
    CleanupReport report;
    report.dry_run = options.dry_run;
    report.entries.push_back(remove_one(name, options));
    return report;
}

CleanupReport cleanup_stale(const CleanupOptions& options) {
    CleanupOptions each = options;
    each.force = false;  // forcing needs a name
    CleanupReport report;
    report.dry_run = options.dry_run;
    for (const BufferInfo& info : list_buffers()) {
        if (!options.match.empty() && ::fnmatch(options.match.c_str(), info.name.c_str(), 0) != 0) continue;
        if (!info.reclaimable) {
            CleanupEntry kept;
            kept.name = info.name;
            kept.topic = info.topic;
            kept.state = info.state;
            kept.outcome = CleanupOutcome::kept;
            kept.reason = fmt::format("{}: {}", to_string(info.state), info.reason);
            report.entries.push_back(std::move(kept));
            continue;
        }
        CleanupEntry e = remove_one(info.name, each);
        // Live again since it was listed (a new reader took the name): not stale any more.
        if (e.outcome == CleanupOutcome::refused && in_use(e.state)) {
            e.outcome = CleanupOutcome::kept;
            e.reason = fmt::format("{} since it was listed: {}", to_string(e.state), e.reason);
        }
        report.entries.push_back(std::move(e));
    }
    return report;
}

}  // namespace zerobuffer::admin
