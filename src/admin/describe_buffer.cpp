// One name's report: the ownership module's probe (src/ownership) turned into a BufferInfo,
// with the header, metadata, health figures and the objects that exist for the name.
#include <algorithm>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "admin/admin_internal.h"
#include "core/buffer_state.h"
#include "core/names.h"
#include "ownership/temporary_segment.h"
#include "platform/posix/process.h"
#include "platform/posix/shared_memory.h"
#include "zerobuffer/exceptions.h"

namespace zerobuffer::admin::internal {
namespace {

constexpr std::uint64_t kHeaderPreviewBytes = 32;

std::string tmpdir() {
    const char* dir = std::getenv("TMPDIR");
    return dir != nullptr ? dir : "";
}

PeerStatus public_status(detail::PeerState state) noexcept {
    switch (state) {
        case detail::PeerState::absent: return PeerStatus::absent;
        case detail::PeerState::alive: return PeerStatus::alive;
        case detail::PeerState::dead: return PeerStatus::dead;
        case detail::PeerState::unknown: return PeerStatus::unknown;
    }
    return PeerStatus::unknown;
}

LockState public_lock(detail::LockFileState state) noexcept {
    switch (state) {
        case detail::LockFileState::absent: return LockState::absent;
        case detail::LockFileState::free: return LockState::free;
        case detail::LockFileState::held: return LockState::held;
        case detail::LockFileState::unreadable: return LockState::unreadable;
    }
    return LockState::unreadable;
}

PeerInfo peer_info(const detail::PeerReport& r) {
    return PeerInfo{r.pid, public_status(r.state), r.zerobuffer, r.pid_recycled, r.process};
}

LockInfo lock_info(std::string path, LockState state, std::optional<std::uint64_t> holder) {
    LockInfo info{std::move(path), state, holder, {}};
    if (holder) info.holder_process = posix::process_name(*holder);
    return info;
}

void add_object(std::vector<ObjectInfo>& out, ObjectKind kind, const std::string& path) {
    const posix::FileInfo f = posix::inspect_path(path);
    if (!f.exists) return;
    out.push_back(ObjectInfo{kind, path, f.size, static_cast<std::uint32_t>(f.uid), static_cast<std::uint32_t>(f.gid),
                             posix::user_name(f.uid), posix::group_name(f.gid), f.mode, f.regular});
}

std::vector<ObjectInfo> objects_of(const std::string& name) {
    std::vector<ObjectInfo> out;
    add_object(out, ObjectKind::segment, detail::segment_path(name));
    add_object(out, ObjectKind::write_semaphore, detail::semaphore_path(detail::sem_write_name(name)));
    add_object(out, ObjectKind::read_semaphore, detail::semaphore_path(detail::sem_read_name(name)));
    add_object(out, ObjectKind::lock_file, detail::lock_path(name));
    add_object(out, ObjectKind::csharp_lock_file, detail::csharp_lock_path(name, tmpdir()));
    return out;
}

HealthFigures health_of(const protocol::Oieb& o) {
    HealthFigures h;
    h.payload_size = o.payload_size;
    h.free_bytes = std::min(o.payload_free_bytes, o.payload_size);
    h.used_bytes = h.payload_size - h.free_bytes;
    h.utilisation = h.payload_size > 0 ? static_cast<double>(h.used_bytes) / static_cast<double>(h.payload_size) : 0.0;
    h.write_pos = o.payload_write_pos;
    h.read_pos = o.payload_read_pos;
    h.written_count = o.payload_written_count;
    h.read_count = o.payload_read_count;
    h.unread_count = h.written_count >= h.read_count ? h.written_count - h.read_count : 0;
    return h;
}

std::string reason_text(const detail::BufferProbe& p) {
    const std::string peers = detail::describe(p);
    switch (p.state) {
        case detail::BufferState::absent: return "nothing exists under the name";
        case detail::BufferState::live: return peers;
        case detail::BufferState::writer_gone: return "its writer died: " + peers;
        case detail::BufferState::stale: return "its reader is gone: " + peers;
        case detail::BufferState::half_created:
            return fmt::format("the header was never completed ({}) and no creator holds the lock", p.oieb_problem);
        case detail::BufferState::foreign:
            return fmt::format("not a ZeroBuffer v1 buffer: {}",
                               p.oieb_problem.empty() ? "not a regular file" : p.oieb_problem);
        case detail::BufferState::orphaned: {
            std::vector<std::string> left;
            if (p.facts.sem_write) left.emplace_back("sem-w");
            if (p.facts.sem_read) left.emplace_back("sem-r");
            if (p.facts.lock_file == detail::LockFileState::free) left.emplace_back("unheld lock file");
            return fmt::format("no segment; left over: {}", fmt::join(left, ", "));
        }
        case detail::BufferState::creating: return "a reader is creating it: " + peers;
    }
    return peers;
}

void fill_segment(BufferInfo& info, const detail::BufferProbe& p) {
    info.has_segment = p.facts.segment;
    if (!info.has_segment) return;
    info.segment_size = p.segment.size;
    info.oieb = p.oieb;
    info.oieb_valid = p.facts.oieb == detail::OiebStatus::valid || p.facts.oieb == detail::OiebStatus::inconsistent;
    info.oieb_problem = p.oieb_problem;
    if (info.oieb_valid && p.oieb) {
        info.health = health_of(*p.oieb);
        info.metadata = read_metadata(info.name, p.segment, *p.oieb);
    } else if (p.segment.regular) {
        const std::uint64_t n = std::min(p.segment.size, kHeaderPreviewBytes);
        if (auto bytes = read_segment_bytes(info.name, p.segment, 0, n)) {
            info.header_hex = hex_bytes(*bytes);
            info.header_text = printable_bytes(*bytes);
        }
    }
}

BufferInfo describe_temporary(const std::string& file_name) {
    BufferInfo info;
    info.name = file_name;
    info.temporary = true;
    const auto probe = detail::probe_temporary_segment(file_name);
    if (!probe || !probe->exists) return info;
    info.has_segment = true;
    info.segment_size = probe->file.size;
    info.reader = peer_info(probe->creator);
    info.reclaimable = detail::temporary_reclaimable(*probe);
    info.state = info.reclaimable ? BufferState::orphaned : BufferState::creating;
    info.reason = fmt::format("temporary segment of pid {}{}, which is {}{}", probe->creator.pid,
                              probe->creator.process.empty() ? "" : " (" + probe->creator.process + ")",
                              detail::to_string(probe->creator.state),
                              probe->creator.pid_recycled ? " (its PID now names a younger process)" : "");
    add_object(info.objects, ObjectKind::temporary_segment, detail::segment_path(file_name));
    return info;
}

}  // namespace

BufferInfo describe_name(const std::string& name) {
    if (posix::temporary_segment_pid(name)) {
        try {
            return describe_temporary(name);
        } catch (const std::system_error& e) {
            BufferInfo info;
            info.name = name;
            info.temporary = true;
            info.state = BufferState::inaccessible;
            info.error = e.what();
            info.reason = info.error;
            add_object(info.objects, ObjectKind::temporary_segment, detail::segment_path(name));
            info.has_segment = !info.objects.empty();
            return info;
        }
    }
    BufferInfo info;
    info.name = name;
    info.topic = topic_of(name);
    info.lock_file.path = detail::lock_path(name);
    info.csharp_lock.path = detail::csharp_lock_path(name, tmpdir());
    info.objects = objects_of(name);
    detail::BufferProbe probe;
    try {
        probe = detail::probe_buffer(name);
    } catch (const std::system_error& e) {
        if (info.objects.empty()) return info;  // gone meanwhile
        info.state = BufferState::inaccessible;
        info.error = e.what();
        info.reason = info.error;
        info.has_segment = info.objects.front().kind == ObjectKind::segment;
        return info;
    }
    info.state = public_state(probe.state);
    info.reason = reason_text(probe);
    info.reclaimable = detail::reclaimable(probe.state);
    // Peers are named by a v1 header only: the bytes of another file mean nothing.
    if (probe.facts.oieb == detail::OiebStatus::valid || probe.facts.oieb == detail::OiebStatus::inconsistent) {
        info.writer = peer_info(probe.writer);
        info.reader = peer_info(probe.reader);
    }
    info.lock_file = lock_info(info.lock_file.path, public_lock(probe.facts.lock_file), probe.lock_holder);
    const LockState csharp = probe.facts.csharp_lock_held ? LockState::held
                             : probe.csharp_lock_file.exists ? LockState::free
                                                             : LockState::absent;
    info.csharp_lock = lock_info(info.csharp_lock.path, csharp, probe.csharp_lock_holder);
    fill_segment(info, probe);
    return info;
}

}  // namespace zerobuffer::admin::internal

namespace zerobuffer::admin {

BufferInfo inspect(const std::string& name) {
    validate_buffer_name(name);
    BufferInfo info = internal::describe_name(name);
    if (info.state == BufferState::absent) {
        if (info.temporary) {
            throw BufferNotFoundException(fmt::format("no temporary segment {}", detail::segment_path(name)));
        }
        throw BufferNotFoundException(fmt::format(
            "no buffer '{}': none of {}, {}, {}, {} exists", name, detail::segment_path(name),
            detail::semaphore_path(detail::sem_write_name(name)), detail::semaphore_path(detail::sem_read_name(name)),
            detail::lock_path(name)));
    }
    return info;
}

}  // namespace zerobuffer::admin
