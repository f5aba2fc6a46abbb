// BufferHealth as a plain dict (Reader.health(), Writer.health()).
#include "binding.h"

namespace zbpy {
namespace {

nb::dict peer(const zerobuffer::PeerHealth& p) {
    nb::dict d;
    d["pid"] = p.pid;
    d["status"] = zerobuffer::to_string(p.status);
    d["zerobuffer"] = p.zerobuffer;
    return d;
}

}  // namespace

nb::dict health_dict(const zerobuffer::BufferHealth& h) {
    nb::dict d;
    d["payload_size"] = h.payload_size;
    d["payload_free_bytes"] = h.payload_free_bytes;
    d["payload_used_bytes"] = h.payload_used_bytes;
    d["utilisation"] = h.utilisation;
    d["write_pos"] = h.write_pos;
    d["read_pos"] = h.read_pos;
    d["written_count"] = h.written_count;
    d["read_count"] = h.read_count;
    d["metadata_size"] = h.metadata_size;
    d["metadata_written_bytes"] = h.metadata_written_bytes;
    d["writer_pid"] = h.writer_pid;
    d["reader_pid"] = h.reader_pid;
    d["writer_alive"] = h.writer_alive;
    d["reader_alive"] = h.reader_alive;
    d["writer"] = peer(h.writer);
    d["reader"] = peer(h.reader);
    d["owner_uid"] = h.owner_uid;
    d["mode"] = h.mode;
    d["frames"] = h.frames;
    d["bytes"] = h.bytes;
    d["frames_outstanding"] = h.frames_outstanding;
    d["wraps"] = h.wraps;
    d["blocked_waits"] = h.blocked_waits;
    return d;
}

void bind_health(nb::module_&) {}

}  // namespace zbpy
