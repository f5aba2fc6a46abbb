// zerobuffer-bridge send: read a local buffer (the bridge creates it, as its reader), or subscribe
// to a local topic, and send it.
#include <unistd.h>

#include "commands.h"
#include "link_args.h"
#include "live_figures.h"

namespace zbbridge {

int cmd_send(int argc, char** argv) {
    zbtool::ArgParser parser("zerobuffer-bridge", "send",
                             "Creates local buffer NAME as its reader (the local producer writes into it), or subscribes "
                             "to topic T, and sends every frame and the metadata to the receivers.");
    parser.option("", "from", "buffer:NAME|topic:T", "the local buffer to create and read, or the topic to subscribe to")
        .option("", "subscriber-id", "ID", "topic:T: the ID of this bridge's subscriber buffer T@ID (default: bridge-PID)")
        .option("", "ring-size", "SIZE", "payload ring of the local buffer (K/M/G)", "64M")
        .option("", "metadata-size", "SIZE", "metadata block of the local buffer (K/M/G)", "4K")
        .flag("", "copy", "copy each frame into a ZeroMQ message instead of sending it from shared memory");
    declare_link_options(parser, Side::send);
    parser.epilog("exit codes: 0 stopped (SIGINT/SIGTERM), 1 error, 2 bad usage; 128+N: the worker was killed by signal N");
    if (!parser.parse_or_print_help(argc, argv, 2)) return kExitOk;
    set_default_log_level(parser);
    if (!parser.has("from")) throw zbtool::UsageError("--from buffer:NAME or --from topic:T is required");
    const Local local = parse_local(parser.get("from"), "--from");
    const std::string& name = local.name;
    zerobuffer::bridge::SenderOptions options;
    options.local = local.kind;
    // A topic's subscriber buffer gets a name known here, so that this process can remove what
    // a killed worker leaves of it.
    options.subscriber_id = parser.has("subscriber-id") ? parser.get("subscriber-id") : "bridge-" + std::to_string(::getpid());
    const std::string reclaim = local.kind == zerobuffer::bridge::LocalKind::topic
                                    ? name + "@" + options.subscriber_id : name;
    options.link = link_options(parser, Side::send);
    options.buffer.payload_size = parser.get_size("ring-size");
    options.buffer.metadata_size = parser.get_size("metadata-size");
    options.zero_copy = !parser.has("copy");
    const FiguresFormat format = figures_format(parser.has("quiet"), parser.has("json"));
    return run_supervised("send", reclaim, [&] {
        using zerobuffer::bridge::Sender;
        return serve<Sender>([&] { return Sender(name, options); }, "send " + name, format);
    });
}

}  // namespace zbbridge
