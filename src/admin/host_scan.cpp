// list_buffers: which names on this host may hold a ZeroBuffer buffer or its leftovers. Names
// come from /dev/shm (segments, sem.sem-[wr]-NAME semaphores, .zb-tmp-* temporary segments) and
// from the lock directories; each is then described by the ownership rules. A segment counts
// as ours by its header (a v1 OIEB with consistent sizes), whatever its name; one that is not
// v1 is listed only if zerobuffer semaphores or lock files share its name.
#include <algorithm>
#include <cstdlib>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>

#include <fmt/format.h>

#include "admin/admin_internal.h"
#include "core/names.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::admin {
namespace {

constexpr std::string_view kSemaphorePrefix = "sem.";
constexpr std::string_view kWriteSemaphorePrefix = "sem.sem-w-";
constexpr std::string_view kReadSemaphorePrefix = "sem.sem-r-";
constexpr std::string_view kLockSuffix = ".lock";

bool valid_name(std::string_view name) {
    try {
        detail::validate_name(name);
        return true;
    } catch (const InvalidNameException&) {
        return false;
    }
}

std::vector<std::string> entries_of(const std::string& dir) {
    try {
        return posix::list_directory(dir);
    } catch (const std::system_error& e) {
        throw SystemError(fmt::format("cannot list {}: {}", dir, e.what()), e.code());
    }
}

// NAME for every "NAME.lock" in `dir`.
void add_lock_names(const std::string& dir, std::set<std::string>& names) {
    for (const std::string& entry : entries_of(dir)) {
        if (entry.size() <= kLockSuffix.size() || !entry.ends_with(kLockSuffix)) continue;
        const std::string name = entry.substr(0, entry.size() - kLockSuffix.size());
        if (valid_name(name)) names.insert(name);
    }
}

bool has_zerobuffer_objects(const BufferInfo& info) {
    return std::any_of(info.objects.begin(), info.objects.end(),
                       [](const ObjectInfo& o) { return o.kind != ObjectKind::segment; });
}

}  // namespace

std::vector<BufferInfo> list_buffers() {
    std::set<std::string> names;
    std::vector<std::string> temporaries;
    for (const std::string& entry : entries_of(std::string(detail::kShmDirectory))) {
        if (entry.starts_with(kWriteSemaphorePrefix) || entry.starts_with(kReadSemaphorePrefix)) {
            const std::string name = entry.substr(kWriteSemaphorePrefix.size());
            if (valid_name(name)) names.insert(name);
        } else if (entry.starts_with(kSemaphorePrefix)) {
            continue;  // another program's semaphore
        } else if (posix::temporary_segment_pid(entry)) {
            temporaries.push_back(entry);
        } else if (valid_name(entry)) {
            names.insert(entry);  // a segment; its header decides below
        }
    }
    add_lock_names(std::string(detail::kLockDirectory), names);
    const char* tmpdir = std::getenv("TMPDIR");
    // The C# lock directory: the folder of any C# lock path.
    const std::string csharp_lock = detail::csharp_lock_path("x", tmpdir != nullptr ? tmpdir : "");
    add_lock_names(csharp_lock.substr(0, csharp_lock.rfind('/')), names);

    std::vector<BufferInfo> found;
    for (const std::string& name : names) {
        BufferInfo info = internal::describe_name(name);
        if (info.state == BufferState::absent) continue;
        if (!info.oieb_valid && !has_zerobuffer_objects(info)) continue;  // not ours
        found.push_back(std::move(info));
    }
    for (const std::string& file : temporaries) {
        BufferInfo info = internal::describe_name(file);
        if (info.state == BufferState::orphaned) found.push_back(std::move(info));  // its creator is dead
    }
    std::sort(found.begin(), found.end(), [](const BufferInfo& a, const BufferInfo& b) {
        return std::tie(a.temporary, a.topic, a.name) < std::tie(b.temporary, b.topic, b.name);
    });
    return found;
}

}  // namespace zerobuffer::admin
