#include "stream/health_report.h"

#include <algorithm>

#include "core/peer_rules.h"
#include "platform/posix/filesystem.h"
#include "platform/posix/process.h"
#include "platform/posix/slot_lock.h"

namespace zerobuffer {

const char* to_string(PeerStatus status) noexcept {
    switch (status) {
        case PeerStatus::absent: return "absent";
        case PeerStatus::alive: return "alive";
        case PeerStatus::dead: return "dead";
        case PeerStatus::unknown: return "unknown";
    }
    return "unknown";
}

namespace detail {

PeerHealth peer_status_now(std::uint64_t pid, int fd, std::int64_t lock_offset, std::uint64_t cooperative_pid) {
    PeerHealth h;
    h.pid = pid;
    PeerEvidence e;
    e.pid = pid;
    if (pid != 0) {
        e.lock_held = fd >= 0 && posix::byte_is_locked(fd, lock_offset);
        e.lock_seen_before = pid == cooperative_pid;
        if (!e.lock_held && !e.lock_seen_before) {
            e.pid_state = pid_unjudgeable(pid)  ? PeerEvidence::Pid::unjudgeable
                          : posix::pid_alive(pid) ? PeerEvidence::Pid::alive
                                                  : PeerEvidence::Pid::dead;
        }
    }
    h.zerobuffer = e.lock_held;
    switch (judge_peer(e)) {
        case PeerState::absent: h.status = PeerStatus::absent; break;
        case PeerState::alive: h.status = PeerStatus::alive; break;
        case PeerState::dead: h.status = PeerStatus::dead; break;
        case PeerState::unknown: h.status = PeerStatus::unknown; break;
    }
    return h;
}

BufferHealth shared_health(const OiebView& oieb, std::uint64_t payload_size, std::uint64_t metadata_size, int fd,
                           std::uint64_t cooperative_writer, std::uint64_t cooperative_reader) {
    BufferHealth h;
    h.payload_size = payload_size;
    h.payload_free_bytes = std::min(oieb.payload_free_bytes(), payload_size);
    h.payload_used_bytes = payload_size - h.payload_free_bytes;
    h.utilisation = static_cast<double>(h.payload_used_bytes) / static_cast<double>(payload_size);
    h.write_pos = oieb.write_pos();
    h.read_pos = oieb.read_pos();
    h.written_count = oieb.written_count();
    h.read_count = oieb.read_count();
    h.metadata_size = metadata_size;
    h.metadata_written_bytes = oieb.metadata_written_bytes();
    h.writer = peer_status_now(oieb.writer_pid(), fd, protocol::kWriterLockOffset, cooperative_writer);
    h.reader = peer_status_now(oieb.reader_pid(), fd, protocol::kReaderLockOffset, cooperative_reader);
    h.writer_pid = h.writer.pid;
    h.reader_pid = h.reader.pid;
    h.writer_alive = h.writer.status == PeerStatus::alive;
    h.reader_alive = h.reader.status == PeerStatus::alive;
    if (fd >= 0) {
        const posix::FileInfo info = posix::inspect_descriptor(fd);
        h.owner_uid = static_cast<std::uint32_t>(info.uid);
        h.mode = info.mode;
    }
    return h;
}

}  // namespace detail
}  // namespace zerobuffer
