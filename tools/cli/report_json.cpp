#include "report_json.h"

#include <map>
#include <string>

#include "text_format.h"

namespace zbcli {
namespace zb = zerobuffer;
namespace admin = zerobuffer::admin;
using zbtool::Json;

namespace {

Json lock_json(const admin::LockInfo& lock) {
    return Json()
        .field("path", lock.path)
        .field("state", admin::to_string(lock.state))
        .field("holder_pid", lock.holder_pid)
        .field("holder_process", lock.holder_process);
}

Json object_json(const admin::ObjectInfo& o) {
    return Json()
        .field("kind", admin::to_string(o.kind))
        .field("path", o.path)
        .field("size", o.size)
        .field("owner", o.owner)
        .field("uid", static_cast<std::uint64_t>(o.uid))
        .field("group", o.group)
        .field("gid", static_cast<std::uint64_t>(o.gid))
        .field("mode", mode_text(o.mode))
        .field("regular", o.regular);
}

Json oieb_json(const zb::protocol::Oieb& o) {
    const std::string version = std::to_string(o.version.major) + "." + std::to_string(o.version.minor) + "." +
                                std::to_string(o.version.patch);
    return Json()
        .field("oieb_size", static_cast<std::uint64_t>(o.oieb_size))
        .field("version", version)
        .field("metadata_size", o.metadata_size)
        .field("metadata_free_bytes", o.metadata_free_bytes)
        .field("metadata_written_bytes", o.metadata_written_bytes)
        .field("payload_size", o.payload_size)
        .field("payload_free_bytes", o.payload_free_bytes)
        .field("payload_write_pos", o.payload_write_pos)
        .field("payload_read_pos", o.payload_read_pos)
        .field("payload_written_count", o.payload_written_count)
        .field("payload_read_count", o.payload_read_count)
        .field("writer_pid", o.writer_pid)
        .field("reader_pid", o.reader_pid);
}

Json metadata_json(const admin::MetadataInfo& m) {
    return Json()
        .field("block_size", m.block_size)
        .field("written_bytes", m.written_bytes)
        .field("length", m.length)
        .field("preview_hex", m.preview_hex)
        .field("preview_text", m.preview_text)
        .field("problem", m.problem);
}

Json topic_or_null(Json j, const std::string& topic) {
    return topic.empty() ? j.field_null("topic") : j.field("topic", topic);
}

}  // namespace

bool is_leftover(const admin::BufferInfo& info) noexcept { return info.temporary || !info.has_segment; }

Json peer_json(const admin::PeerInfo& p) {
    return Json()
        .field("pid", p.pid)
        .field("state", zb::to_string(p.status))
        .field("zerobuffer", p.zerobuffer)
        .field("pid_recycled", p.pid_recycled)
        .field("process", p.process);
}

Json health_json(const admin::HealthFigures& h) {
    return Json()
        .field("payload_size", h.payload_size)
        .field("free_bytes", h.free_bytes)
        .field("used_bytes", h.used_bytes)
        .field("utilisation", h.utilisation)
        .field("fill_percent", h.utilisation * 100.0)
        .field("write_pos", h.write_pos)
        .field("read_pos", h.read_pos)
        .field("written_count", h.written_count)
        .field("read_count", h.read_count)
        .field("unread_count", h.unread_count);
}

Json buffer_json(const admin::BufferInfo& info) {
    Json j;
    j.field("name", info.name);
    j = topic_or_null(std::move(j), info.topic);
    j.field("state", admin::to_string(info.state))
        .field("reason", info.reason)
        .field("reclaimable", info.reclaimable)
        .field("temporary", info.temporary)
        .field("has_segment", info.has_segment)
        .field("segment_size", info.segment_size)
        .field("oieb_valid", info.oieb_valid)
        .field("oieb_problem", info.oieb_problem);
    if (info.oieb) j.field("oieb", oieb_json(*info.oieb)); else j.field_null("oieb");
    j.field("header_hex", info.header_hex).field("header_text", info.header_text);
    if (info.metadata) j.field("metadata", metadata_json(*info.metadata)); else j.field_null("metadata");
    if (info.health) j.field("health", health_json(*info.health)); else j.field_null("health");
    std::vector<Json> objects;
    for (const auto& o : info.objects) objects.push_back(object_json(o));
    return j.field("writer", peer_json(info.writer))
        .field("reader", peer_json(info.reader))
        .field("lock_file", lock_json(info.lock_file))
        .field("csharp_lock", lock_json(info.csharp_lock))
        .objects("objects", objects)
        .field("error", info.error);
}

Json cleanup_json(const admin::CleanupReport& report) {
    std::vector<Json> entries;
    for (const auto& e : report.entries) {
        Json j;
        j.field("name", e.name);
        j = topic_or_null(std::move(j), e.topic);
        entries.push_back(j.field("state", admin::to_string(e.state))
                              .field("outcome", admin::to_string(e.outcome))
                              .strings("removed", e.removed)
                              .field("reason", e.reason));
    }
    return Json()
        .field("dry_run", report.dry_run)
        .field("ok", report.ok())
        .field("removed_objects", static_cast<std::uint64_t>(report.removed_objects()))
        .objects("entries", entries);
}

Json listing_json(const std::vector<admin::BufferInfo>& infos) {
    std::vector<Json> buffers;
    std::vector<Json> leftovers;
    std::map<std::string, std::vector<std::string>> topics;
    std::uint64_t reclaimable = 0;
    std::uint64_t reclaimable_bytes = 0;
    for (const auto& info : infos) {
        (is_leftover(info) ? leftovers : buffers).push_back(buffer_json(info));
        if (!info.topic.empty()) topics[info.topic].push_back(info.name);
        if (info.reclaimable) {
            ++reclaimable;
            reclaimable_bytes += info.segment_size;
        }
    }
    std::vector<Json> topic_list;
    for (const auto& [topic, names] : topics) topic_list.push_back(Json().field("topic", topic).strings("buffers", names));
    return Json()
        .objects("buffers", buffers)
        .objects("leftovers", leftovers)
        .objects("topics", topic_list)
        .field("summary", Json()
                              .field("buffers", static_cast<std::uint64_t>(buffers.size()))
                              .field("leftovers", static_cast<std::uint64_t>(leftovers.size()))
                              .field("reclaimable", reclaimable)
                              .field("reclaimable_bytes", reclaimable_bytes));
}

}  // namespace zbcli
