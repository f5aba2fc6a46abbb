// The relay command: frames and metadata from one buffer into another.
#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "common.h"
#include "stream_common.h"

namespace interop {
namespace zb = zerobuffer;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
int cmd_relay(int argc, char** argv) {
    ArgParser p(kProgram, "relay", "Create IN as reader, attach to OUT as writer, and forward metadata and frames.");
    p.positional("IN", "input buffer (created here)");
    p.positional("OUT", "output buffer (created by another reader)");
    p.option("n", "frames", "N", "frames to relay; 0 = until the input writer leaves or a read times out", "0");
    p.option("", "timeout-ms", "MS", "how long one read may wait", "5000");
    p.option("", "write-timeout-ms", "MS", "how long one write may wait for space", "5000");
    p.option("", "wait-for-buffer-ms", "MS", "how long to wait for OUT to exist", "5000");
    p.option("", "log-interval", "N", "with -v, a progress line every N frames", "100");
    add_buffer_options(p);
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string in = p.arg(0), out = p.arg(1);
    const auto frames = static_cast<std::uint64_t>(p.get_int("frames", 0, INT64_MAX));
    const auto timeout = milliseconds(p.get_int("timeout-ms", 1, 3600000));
    const auto write_timeout = p.get_int("write-timeout-ms", 1, 3600000);
    const auto wait = p.get_int("wait-for-buffer-ms", 0, 3600000);
    const auto log_interval = static_cast<std::uint64_t>(p.get_int("log-interval", 1, INT64_MAX));
    const zb::BufferConfig config = buffer_config_from(p);

    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::uint64_t relayed = 0, bytes = 0, metadata_size = 0;
    bool metadata_relayed = false, writer_gone = false;
    std::string exc_type;
    double duration = 0;
    int code = kExitOk;
    try {
        zb::Reader reader(in, config, reader_options_from(p));
        signal_ready(p, in);
        zb::WriterOptions options;
        options.write_timeout = milliseconds(write_timeout);
        zb::Writer writer = attach_writer(out, options, milliseconds(wait), run);
        const auto t0 = Clock::now();
        try {
            while ((frames == 0 || relayed < frames) && !g_stop) {
                zb::Frame f = read_with_timeout(reader, timeout);
                if (!f.valid()) {
                    if (frames != 0 && !g_stop) run.error("no frame within " + std::to_string(timeout.count()) + " ms");
                    break;
                }
                if (relayed == 0) {
                    const auto md = reader.metadata();
                    if (reader.health().metadata_written_bytes > 0) {
                        writer.set_metadata(md);
                        metadata_relayed = true;
                        metadata_size = md.size();
                    }
                }
                writer.write_frame(f.data());
                ++relayed;
                bytes += f.size();
                if (run.verbose && relayed % log_interval == 0) {
                    run.log("[RELAY] Progress: " + std::to_string(relayed) + " frames");
                }
                f.release();
            }
        } catch (const zb::WriterDeadException& e) {
            writer_gone = true;
            if (frames != 0 && relayed < frames) run.error(describe(e));
        }
        duration = seconds_since(t0);
        writer.close();
        reader.close();
    } catch (const std::exception& e) {
        code = run.failed(e, exc_type);
    }
    if (code == kExitOk && !run.errors.empty()) code = kExitErrors;
    Json j;
    j.field("operation", "relay")
        .field("input_buffer", in)
        .field("output_buffer", out)
        .field("frames_relayed", relayed)
        .field("metadata_relayed", metadata_relayed)
        .field("metadata_size", metadata_size)
        .field("total_bytes", bytes)
        .field("duration_seconds", duration)
        .field("throughput_mbps", mib_per_second(bytes, duration))
        .field("writer_gone", writer_gone)
        .field("exception_type", exc_type)
        .strings("errors", run.errors);
    std::ostringstream human;
    human << "[RELAY] relayed " << relayed << " frames (" << bytes << " bytes) in " << duration << " s";
    run.emit(j, human.str());
    return code;
}

}  // namespace interop
