// The shared-memory part of a BufferHealth snapshot, common to Reader and Writer.
#pragma once

#include <algorithm>

#include "core/oieb_view.h"
#include "platform/posix/process.h"
#include "zerobuffer/health.h"

namespace zerobuffer::detail {

// S and M are the caller's own validated copies, never re-read from shared memory.
inline BufferHealth snapshot_shared_state(const OiebView& oieb, std::uint64_t payload_size, std::uint64_t metadata_size) {
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
    h.writer_pid = oieb.writer_pid();
    h.reader_pid = oieb.reader_pid();
    h.writer_alive = posix::pid_alive(h.writer_pid);
    h.reader_alive = posix::pid_alive(h.reader_pid);
    return h;
}

}  // namespace zerobuffer::detail
