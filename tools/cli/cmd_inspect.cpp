// zerobuffer inspect NAME: everything known about one buffer (or whatever occupies the name).
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "report_json.h"
#include "text_format.h"
#include "zerobuffer/admin.h"

namespace zbcli {
namespace admin = zerobuffer::admin;

namespace {

// "label:     text", the text starting in column 13; an empty label continues the previous line.
void line(const std::string& label, const std::string& text) {
    std::string padded = label;
    padded.resize(std::max<std::size_t>(12, label.size() + 1), ' ');
    std::cout << padded << text << "\n";
}

std::string peer_detail(const admin::PeerInfo& p) {
    if (p.pid == 0) return "none attached (pid 0)";
    std::string text = "pid " + std::to_string(p.pid) + " " + zerobuffer::to_string(p.status);
    text += p.process.empty() ? ", process not visible" : ", process " + p.process;
    text += p.zerobuffer ? ", holds its zerobuffer liveness lock" : ", no zerobuffer liveness lock";
    if (p.pid_recycled) text += "; the PID now names a process younger than the segment (recycled): judged dead";
    return text;
}

std::string lock_detail(const admin::LockInfo& lock) {
    std::string text = lock.path + ": " + admin::to_string(lock.state);
    if (lock.state == admin::LockState::held) text += ", holder " + lock_holder_text(lock);
    return text;
}

void print_oieb(const zerobuffer::protocol::Oieb& o) {
    line("header:", "oieb_size " + std::to_string(o.oieb_size) + ", version " + std::to_string(o.version.major) + "." +
                        std::to_string(o.version.minor) + "." + std::to_string(o.version.patch));
    line("", "metadata_size " + std::to_string(o.metadata_size) + ", metadata_free_bytes " +
                 std::to_string(o.metadata_free_bytes) + ", metadata_written_bytes " +
                 std::to_string(o.metadata_written_bytes));
    line("", "payload_size " + std::to_string(o.payload_size) + ", payload_free_bytes " +
                 std::to_string(o.payload_free_bytes) + ", write_pos " + std::to_string(o.payload_write_pos) +
                 ", read_pos " + std::to_string(o.payload_read_pos));
    line("", "written_count " + std::to_string(o.payload_written_count) + ", read_count " +
                 std::to_string(o.payload_read_count) + ", writer_pid " + std::to_string(o.writer_pid) +
                 ", reader_pid " + std::to_string(o.reader_pid));
}

void print_metadata(const admin::MetadataInfo& m) {
    std::string text;
    if (m.written_bytes == 0) {
        text = "none written (block of " + std::to_string(m.block_size) + " bytes)";
    } else {
        text = std::to_string(m.length) + " bytes (block of " + std::to_string(m.block_size) + ")";
        if (!m.preview.empty()) {
            text += m.preview.size() < m.length ? ", first " + std::to_string(m.preview.size()) + ": " : ": ";
            text += m.preview_hex + "  \"" + m.preview_text + "\"";
        }
    }
    if (!m.problem.empty()) text += "; problem: " + m.problem;
    line("metadata:", text);
}

void print_health(const admin::HealthFigures& h) {
    line("health:", "fill " + percent(h.utilisation) + " (" + std::to_string(h.used_bytes) + " of " +
                        std::to_string(h.payload_size) + " bytes in use, " + std::to_string(h.free_bytes) + " free)");
    line("", "frames written " + std::to_string(h.written_count) + ", read " + std::to_string(h.read_count) + " (" +
                 std::to_string(h.unread_count) + " not read yet)");
}

void print_objects(const std::vector<admin::ObjectInfo>& objects) {
    if (objects.empty()) {
        line("objects:", "none");
        return;
    }
    std::cout << "objects:\n";
    Table t({"  PATH", "KIND", "SIZE", "OWNER", "GROUP", "MODE"});
    for (const auto& o : objects) {
        t.add({"  " + o.path, std::string(admin::to_string(o.kind)) + (o.regular ? "" : " (not a regular file)"),
               std::to_string(o.size), o.owner, o.group, mode_text(o.mode)});
    }
    t.print(std::cout);
}

std::string cleanup_hint(const admin::BufferInfo& b) {
    if (b.reclaimable) return "reclaimable: `zerobuffer cleanup " + b.name + "` removes it";
    switch (b.state) {
        case admin::BufferState::half_created:
        case admin::BufferState::foreign:
            return "not reclaimable on its own; `zerobuffer cleanup --force " + b.name + "` removes it if it is yours";
        default:
            return std::string("not reclaimable (") + admin::to_string(b.state) + ")";
    }
}

void print_text(const admin::BufferInfo& b) {
    line(b.temporary ? "temporary:" : "buffer:", b.name + (b.topic.empty() ? "" : "   (topic " + b.topic + ")"));
    line("state:", std::string(admin::to_string(b.state)) + ": " + b.reason);
    if (!b.error.empty()) line("error:", b.error);
    if (b.has_segment) {
        line("segment:", std::to_string(b.segment_size) + " bytes (" + human_bytes(b.segment_size) + ")" +
                             (b.oieb_valid ? ", ZeroBuffer v1" : ", not a ZeroBuffer v1 buffer"));
        if (!b.oieb_problem.empty()) line("", b.oieb_problem);
        if (!b.header_hex.empty()) line("", "first bytes: " + b.header_hex + "  \"" + b.header_text + "\"");
    } else {
        line("segment:", "none");
    }
    if (b.oieb && b.oieb_valid) print_oieb(*b.oieb);
    if (b.metadata) print_metadata(*b.metadata);
    if (b.health) print_health(*b.health);
    if (b.temporary) {
        line("creator:", peer_detail(b.reader));
    } else {
        if (b.oieb_valid) {  // only a v1 header names peers
            line("writer:", peer_detail(b.writer));
            line("reader:", peer_detail(b.reader));
        }
        line("lock file:", lock_detail(b.lock_file));
        line("C# lock:", lock_detail(b.csharp_lock));
    }
    print_objects(b.objects);
    line("cleanup:", cleanup_hint(b));
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
    zbtool::ArgParser p(kProgram, "inspect",
                        "Everything known about buffer NAME: the decoded header (OIEB), the metadata, health figures, "
                        "writer and reader (PID, liveness, process), the lock files, the objects that exist for the "
                        "name, and its state. For a file that is not a ZeroBuffer buffer, what it is. Reads only.");
    p.positional("NAME", "buffer name, or the file name of a temporary segment (.zb-tmp-<pid>-<n>)");
    p.flag("", "json", "print the report as one JSON object");
    p.epilog(kExitCodesHelp);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    validate_names({p.arg(0)});
    const admin::BufferInfo info = admin::inspect(p.arg(0));
    if (p.has("json")) {
        std::cout << buffer_json(info).str() << std::endl;
    } else {
        print_text(info);
    }
    return kExitOk;
}

}  // namespace zbcli
