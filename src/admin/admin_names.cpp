// Names of the operations API's enumerations, name rules, and report summaries.
#include <algorithm>

#include "admin/admin_internal.h"
#include "core/buffer_state.h"
#include "core/names.h"

namespace zerobuffer::admin {

const char* to_string(BufferState state) noexcept {
    switch (state) {
        case BufferState::absent: return detail::to_string(detail::BufferState::absent);
        case BufferState::live: return detail::to_string(detail::BufferState::live);
        case BufferState::writer_gone: return detail::to_string(detail::BufferState::writer_gone);
        case BufferState::stale: return detail::to_string(detail::BufferState::stale);
        case BufferState::half_created: return detail::to_string(detail::BufferState::half_created);
        case BufferState::foreign: return detail::to_string(detail::BufferState::foreign);
        case BufferState::orphaned: return detail::to_string(detail::BufferState::orphaned);
        case BufferState::creating: return detail::to_string(detail::BufferState::creating);
        case BufferState::inaccessible: return "inaccessible";
    }
    return "unknown";
}

const char* to_string(LockState state) noexcept {
    switch (state) {
        case LockState::absent: return "absent";
        case LockState::free: return "free";
        case LockState::held: return "held";
        case LockState::unreadable: return "unreadable";
    }
    return "unknown";
}

const char* to_string(ObjectKind kind) noexcept {
    switch (kind) {
        case ObjectKind::segment: return "segment";
        case ObjectKind::write_semaphore: return "write-semaphore";
        case ObjectKind::read_semaphore: return "read-semaphore";
        case ObjectKind::lock_file: return "lock-file";
        case ObjectKind::csharp_lock_file: return "csharp-lock-file";
        case ObjectKind::temporary_segment: return "temporary-segment";
    }
    return "unknown";
}

const char* to_string(CleanupOutcome outcome) noexcept {
    switch (outcome) {
        case CleanupOutcome::nothing_to_do: return "nothing-to-do";
        case CleanupOutcome::removed: return "removed";
        case CleanupOutcome::kept: return "kept";
        case CleanupOutcome::refused: return "refused";
        case CleanupOutcome::failed: return "failed";
    }
    return "unknown";
}

std::string topic_of(std::string_view name) {
    const auto at = name.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == name.size()) return {};
    return std::string(name.substr(0, at));
}

void validate_buffer_name(std::string_view name) { detail::validate_name(name); }

bool CleanupReport::ok() const noexcept {
    return std::none_of(entries.begin(), entries.end(), [](const CleanupEntry& e) {
        return e.outcome == CleanupOutcome::refused || e.outcome == CleanupOutcome::failed;
    });
}

std::size_t CleanupReport::removed_objects() const noexcept {
    std::size_t n = 0;
    for (const CleanupEntry& e : entries) n += e.removed.size();
    return n;
}

namespace internal {

BufferState public_state(detail::BufferState state) noexcept {
    switch (state) {
        case detail::BufferState::absent: return BufferState::absent;
        case detail::BufferState::live: return BufferState::live;
        case detail::BufferState::writer_gone: return BufferState::writer_gone;
        case detail::BufferState::stale: return BufferState::stale;
        case detail::BufferState::half_created: return BufferState::half_created;
        case detail::BufferState::foreign: return BufferState::foreign;
        case detail::BufferState::orphaned: return BufferState::orphaned;
        case detail::BufferState::creating: return BufferState::creating;
    }
    return BufferState::foreign;
}

}  // namespace internal
}  // namespace zerobuffer::admin
