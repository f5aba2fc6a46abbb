// zerobuffer ls: every buffer on this host, grouped by topic, and the leftovers of dead ones.
#include <fnmatch.h>

#include <iostream>
#include <map>

#include "commands.h"
#include "report_json.h"
#include "text_format.h"
#include "zerobuffer/admin.h"

namespace zbcli {
namespace admin = zerobuffer::admin;

namespace {

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::vector<std::string> buffer_row(const admin::BufferInfo& b) {
    std::string meta = "-", payload = "-", fill = "-", written = "-", read = "-";
    if (b.oieb && b.oieb_valid) {
        meta = human_bytes(b.oieb->metadata_size);
        payload = human_bytes(b.oieb->payload_size);
    }
    if (b.health) {
        fill = percent(b.health->utilisation);
        written = std::to_string(b.health->written_count);
        read = std::to_string(b.health->read_count);
    }
    return {b.name, or_dash(b.topic), admin::to_string(b.state), meta, payload, fill, written, read,
            peer_text(b.writer), peer_text(b.reader)};
}

std::string objects_text(const admin::BufferInfo& b) {
    std::string text;
    for (const auto& o : b.objects) {
        if (!text.empty()) text += ", ";
        text += o.path;
        if (o.kind == admin::ObjectKind::lock_file) text += std::string(" (") + admin::to_string(b.lock_file.state) + ")";
        if (o.kind == admin::ObjectKind::temporary_segment) text += " (" + human_bytes(o.size) + ")";
    }
    return text;
}

void print_summary(const std::vector<admin::BufferInfo>& infos, std::size_t buffers, std::size_t leftovers) {
    std::map<std::string, int> states;
    std::map<std::string, int> topics;
    std::size_t reclaimable = 0;
    std::uint64_t reclaimable_bytes = 0;
    for (const auto& b : infos) {
        ++states[admin::to_string(b.state)];
        if (!b.topic.empty()) ++topics[b.topic];
        if (b.reclaimable) {
            ++reclaimable;
            reclaimable_bytes += b.segment_size;
        }
    }
    std::string by_state;
    for (const auto& [state, n] : states) by_state += (by_state.empty() ? "" : ", ") + std::to_string(n) + " " + state;
    std::cout << "\n" << buffers << " buffer(s), " << leftovers << " leftover(s): " << by_state << "\n";
    if (!topics.empty()) {
        std::cout << "topics:";
        for (const auto& [topic, n] : topics) std::cout << " " << topic << " (" << n << ")";
        std::cout << "\n";
    }
    if (reclaimable > 0) {
        std::cout << reclaimable << " reclaimable (" << human_bytes(reclaimable_bytes)
                  << " of shared memory): `zerobuffer cleanup --stale` removes them\n";
    }
}

}  // namespace

int cmd_ls(int argc, char** argv) {
    zbtool::ArgParser p(kProgram, "ls",
                        "List every ZeroBuffer v1 buffer on this host (recognised by its header, whichever language "
                        "created it), grouped by topic, then the leftovers of dead processes: semaphores and lock "
                        "files without a segment, and temporary segments of dead creators. Reads only.");
    p.flag("", "json", "print one JSON object: {buffers, leftovers, topics, summary}");
    p.option("", "match", "PATTERN", "only names matching this shell pattern (fnmatch), e.g. 'cam*'");
    p.epilog(kExitCodesHelp);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;

    std::vector<admin::BufferInfo> infos = admin::list_buffers();
    if (p.has("match")) {
        const std::string pattern = p.get("match");
        std::erase_if(infos, [&](const admin::BufferInfo& b) { return ::fnmatch(pattern.c_str(), b.name.c_str(), 0) != 0; });
    }
    if (p.has("json")) {
        std::cout << listing_json(infos).str() << std::endl;
        return kExitOk;
    }
    if (infos.empty()) {
        std::cout << "no ZeroBuffer buffers or leftovers on this host\n";
        return kExitOk;
    }
    Table buffers({"NAME", "TOPIC", "STATE", "METADATA", "PAYLOAD", "FILL", "WRITTEN", "READ", "WRITER", "READER"});
    Table leftovers({"NAME", "STATE", "OBJECTS"});
    std::size_t leftover_count = 0;
    for (const auto& b : infos) {
        if (is_leftover(b)) {
            leftovers.add({b.name, admin::to_string(b.state), objects_text(b)});
            ++leftover_count;
        } else {
            buffers.add(buffer_row(b));
        }
    }
    if (!buffers.empty()) buffers.print(std::cout);
    if (!leftovers.empty()) {
        std::cout << (buffers.empty() ? "" : "\n") << "LEFTOVERS (no usable segment)\n";
        leftovers.print(std::cout);
    }
    print_summary(infos, infos.size() - leftover_count, leftover_count);
    return kExitOk;
}

}  // namespace zbcli
