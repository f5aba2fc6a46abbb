// The writer command.
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
int cmd_writer(int argc, char** argv) {
    ArgParser p(kProgram, "writer", "Attach to BUFFER (created by a reader of any language) and write frames.");
    p.positional("BUFFER", "buffer name");
    p.option("n", "frames", "N", "frames to write; 0 = until stopped or an error", "1000");
    p.option("s", "size", "N", "frame size in bytes", "1024");
    p.option("", "sizes", "SPEC", "per-frame sizes instead of -s: mixed:MIN:MAX:SEED, list:A,B,..., file:PATH");
    p.option("", "pattern", "NAME", "frame content: sequential, zero or ones", "sequential");
    add_metadata_options(p, "to write");
    p.option("", "delay-ms", "MS", "sleep between frames", "0");
    p.option("", "write-timeout-ms", "MS", "how long one write may wait for space", "5000");
    p.option("", "wait-for-buffer-ms", "MS", "retry attaching while the buffer does not exist yet", "0");
    p.option("", "linger-ms", "MS", "stay attached this long after the last frame before closing", "0");
    p.option("", "batch-size", "N", "accepted for compatibility with the upstream writers; ignored", "1");
    p.flag("", "zero-copy", "write through acquire_frame()/commit() instead of write_frame()");
    p.flag("", "expect-reader-death", "a ReaderDeadException ends the run successfully (exit 0)");
    p.flag("", "no-prefault", "do not map the segment with MAP_POPULATE");
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string name = p.arg(0);
    const auto frames = static_cast<std::uint64_t>(p.get_int("frames", 0, INT64_MAX));
    const SizeSchedule sizes = schedule_from(p, false);
    const Pattern pattern = parse_pattern(p.get("pattern"), false);
    const MetadataChoice metadata = metadata_from(p);
    const auto delay = p.get_int("delay-ms", 0, 3600000);
    const auto write_timeout = p.get_int("write-timeout-ms", 1, 3600000);
    const auto wait = p.get_int("wait-for-buffer-ms", 0, 3600000);
    const auto linger = p.get_int("linger-ms", 0, 3600000);
    const bool zero_copy = p.has("zero-copy");
    const bool expect_reader_death = p.has("expect-reader-death");
    (void)p.get_int("batch-size", 1, INT32_MAX);

    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::uint64_t written = 0, bytes = 0, last_sequence = 0;
    bool reader_gone = false;
    std::string exc_type;
    std::string health;
    double duration = 0;
    int code = kExitOk;
    PatternSource source(pattern, static_cast<std::size_t>(std::min<std::uint64_t>(sizes.max_size(), 1ull << 30)));
    try {
        zb::WriterOptions options;
        options.write_timeout = milliseconds(write_timeout);
        options.prefault = !p.has("no-prefault");
        zb::Writer writer = attach_writer(name, options, milliseconds(wait), run);
        run.log("attached to '" + name + "'");
        if (metadata.present) writer.set_metadata(metadata.bytes);
        signal_ready(p, name);
        const auto t0 = Clock::now();
        try {
            for (std::uint64_t k = 0; (frames == 0 || k < frames) && !g_stop; ++k) {
                const std::uint64_t n = sizes.size(k);
                if (zero_copy) {
                    zb::FrameReservation r = writer.acquire_frame(static_cast<std::size_t>(n));
                    source.fill(r.data(), k);
                    last_sequence = r.commit();
                } else {
                    last_sequence = writer.write_frame(source.frame(k, static_cast<std::size_t>(n)));
                }
                ++written;
                bytes += n;
                if (run.verbose && written % 1000 == 0) run.log("wrote " + std::to_string(written) + " frames");
                if (delay > 0 && (frames == 0 || k + 1 < frames)) sleep_ms(delay);
            }
        } catch (const zb::ReaderDeadException& e) {
            reader_gone = true;
            exc_type = exception_type(e);
            if (!expect_reader_death) {
                run.error(describe(e));
                code = kExitException;
            } else {
                run.log("reader gone: " + std::string(e.what()));
            }
        }
        duration = seconds_since(t0);
        if (expect_reader_death && !reader_gone) {
            run.error("the reader's death was expected but every write succeeded");
            code = kExitErrors;
        }
        if (!reader_gone) {  // stay attached, but leave at once on SIGTERM/SIGINT
            const auto until = Clock::now() + milliseconds(linger);
            while (!g_stop && Clock::now() < until) sleep_ms(10);
        }
        health = health_json(writer.health()).str();
        writer.close();
    } catch (const std::exception& e) {
        code = run.failed(e, exc_type);
    }
    Json j;
    j.field("operation", "write")
        .field("buffer_name", name)
        .field("frames_written", written)
        .field("frame_size", sizes.size(0))
        .field("sizes", sizes.describe())
        .field("bytes_written", bytes)
        .field("metadata_size", static_cast<std::uint64_t>(metadata.present ? metadata.bytes.size() : 0))
        .field("duration_seconds", duration)
        .field("throughput_mbps", mib_per_second(bytes, duration))
        .field("last_sequence", last_sequence)
        .field("reader_gone", reader_gone)
        .field("exception_type", exc_type)
        .field("writer_pid", static_cast<std::int64_t>(::getpid()))
        .raw("health", health.empty() ? "null" : health)
        .strings("errors", run.errors);
    std::ostringstream human;
    human << "[WRITER] wrote " << written << " frames (" << bytes << " bytes) in " << duration << " s, "
          << mib_per_second(bytes, duration) << " MiB/s" << (reader_gone ? "; the reader is gone" : "");
    run.emit(j, human.str());
    return code;
}

}  // namespace interop
