// zerobuffer-bridge recv: receive and write into a local buffer (as its writer; the local
// consumer creates it), or publish on a local topic.
#include "commands.h"
#include "link_args.h"
#include "live_figures.h"

namespace zbbridge {

int cmd_recv(int argc, char** argv) {
    zbtool::ArgParser parser("zerobuffer-bridge", "recv",
                             "Writes every frame that arrives into local buffer NAME as its writer (the local consumer "
                             "creates NAME; the bridge waits for it, and again after it leaves), or publishes it on "
                             "topic T.");
    parser.option("", "to", "buffer:NAME|topic:T", "the local buffer to write into, or the topic to publish on")
        .option("", "max-frame", "SIZE", "largest message accepted from the network (K/M/G)", "64M");
    declare_link_options(parser, Side::recv);
    parser.epilog("exit codes: 0 stopped (SIGINT/SIGTERM), 1 error, 2 bad usage; 128+N: the worker was killed by signal N");
    if (!parser.parse_or_print_help(argc, argv, 2)) return kExitOk;
    set_default_log_level(parser);
    if (!parser.has("to")) throw zbtool::UsageError("--to buffer:NAME or --to topic:T is required");
    const Local local = parse_local(parser.get("to"), "--to");
    const std::string& name = local.name;
    zerobuffer::bridge::ReceiverOptions options;
    options.local = local.kind;
    options.link = link_options(parser, Side::recv);
    options.max_message_size = parser.get_size("max-frame");
    const FiguresFormat format = figures_format(parser.has("quiet"), parser.has("json"));
    // The receiver creates nothing local (a topic's publisher neither): nothing to reclaim.
    return run_supervised("recv", "", [&] {
        using zerobuffer::bridge::Receiver;
        return serve<Receiver>([&] { return Receiver(name, options); }, "recv " + name, format);
    });
}

}  // namespace zbbridge
