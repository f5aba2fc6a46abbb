// zerobuffer-bridge send: read a local buffer (the bridge creates it, as its reader) and send it.
#include "commands.h"
#include "link_args.h"
#include "live_figures.h"

namespace zbbridge {
namespace {
zerobuffer::bridge::Sender* g_sender = nullptr;
void stop_sender() {
    if (g_sender != nullptr) g_sender->request_stop();
}
}  // namespace

int cmd_send(int argc, char** argv) {
    zbtool::ArgParser parser("zerobuffer-bridge", "send",
                             "Creates local buffer NAME as its reader (the local producer writes into it) and sends "
                             "every frame and the metadata to the receivers.");
    parser.option("", "from", "buffer:NAME", "the local buffer to create and read")
        .option("", "ring-size", "SIZE", "payload ring of the local buffer (K/M/G)", "64M")
        .option("", "metadata-size", "SIZE", "metadata block of the local buffer (K/M/G)", "4K")
        .flag("", "copy", "copy each frame into a ZeroMQ message instead of sending it from shared memory");
    declare_link_options(parser, Side::send);
    parser.epilog("exit codes: 0 stopped (SIGINT/SIGTERM), 1 error, 2 bad usage; 128+N: the worker was killed by signal N");
    if (!parser.parse_or_print_help(argc, argv, 2)) return kExitOk;
    set_default_log_level(parser);
    if (!parser.has("from")) throw zbtool::UsageError("--from buffer:NAME is required");
    const std::string name = local_buffer(parser.get("from"), "--from");
    zerobuffer::bridge::SenderOptions options;
    options.link = link_options(parser, Side::send);
    options.buffer.payload_size = parser.get_size("ring-size");
    options.buffer.metadata_size = parser.get_size("metadata-size");
    options.zero_copy = !parser.has("copy");
    const FiguresFormat format = parser.has("quiet") ? FiguresFormat::none
                                 : parser.has("json") ? FiguresFormat::json : FiguresFormat::text;
    return run_supervised("send", name, [&] {
        zerobuffer::bridge::Sender sender(name, options);
        g_sender = &sender;
        set_stop_handler(&stop_sender);
        LiveFigures figures([&] { return sender.stats(); }, "send " + name, format);
        sender.run();
        set_stop_handler(nullptr);
        figures.stop();
        g_sender = nullptr;
        return kExitOk;
    });
}

}  // namespace zbbridge
