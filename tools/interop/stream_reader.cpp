// The reader command, and the Verifier that checks every frame it reads.
#include <algorithm>
#include <cstring>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "common.h"
#include "stream_common.h"
#include "md5.h"

namespace interop {
namespace zb = zerobuffer;
using std::chrono::milliseconds;

namespace {

std::string hex_byte(std::byte b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const auto v = static_cast<unsigned>(b);
    return std::string("0x") + kDigits[v >> 4] + kDigits[v & 15];
}

// Checks every frame of a stream: size, sequence and content; the metadata after the first frame.
class Verifier {
public:
    Verifier(Pattern pattern, SizeSchedule sizes, bool check_sequence, bool allow_restart, MetadataChoice metadata,
             bool checksum)
        : source_(pattern, static_cast<std::size_t>(std::min<std::uint64_t>(sizes.max_size(), 1ull << 30))),
          sizes_(std::move(sizes)),
          check_sequence_(check_sequence),
          allow_restart_(allow_restart),
          metadata_(std::move(metadata)),
          checksum_(checksum) {}

    // Returns false when the frame is wrong (verification_errors counts it). `index` counts the
    // frames of the stream; with --allow-writer-restart the content index is sequence - 1, as a
    // replacement writer starts again at sequence 1 (and its own frame 0).
    bool check(std::uint64_t stream_index, const zb::Frame& f, Run& run) {
        bool ok = true;
        const std::uint64_t index = allow_restart_ ? f.sequence() - 1 : stream_index;
        auto problem = [&](const std::string& what) {
            ok = false;
            if (++shown_ <= 20) run.error("frame " + std::to_string(stream_index) + " (sequence " + std::to_string(f.sequence()) + "): " + what);
        };
        if (allow_restart_) {
            if (check_sequence_ && f.sequence() != last_sequence_ + 1 && f.sequence() != 1) {
                problem("sequence " + std::to_string(f.sequence()) + ", expected " + std::to_string(last_sequence_ + 1) +
                        " (or 1 from a new writer)");
            }
            if (f.sequence() == 1 && stream_index > 0) ++restarts_;
            last_sequence_ = f.sequence();
        } else if (check_sequence_ && f.sequence() != index + 1) {
            problem("sequence " + std::to_string(f.sequence()) + ", expected " + std::to_string(index + 1));
        }
        if (!sizes_.any() && f.size() != sizes_.size(index)) {
            problem("size " + std::to_string(f.size()) + ", expected " + std::to_string(sizes_.size(index)));
        } else if (source_.pattern() != Pattern::none) {
            const auto at = source_.first_mismatch(f.data(), index);
            if (at >= 0) {
                const auto want = source_.frame(index, f.size());
                problem("byte " + std::to_string(at) + " is " + hex_byte(f.data()[static_cast<std::size_t>(at)]) +
                        ", expected " + hex_byte(want[static_cast<std::size_t>(at)]) + " (pattern " +
                        to_string(source_.pattern()) + ")");
            }
        }
        if (checksum_ && index < 100) {
            checksums_.push_back(Json().field("frame", index).field("checksum", Md5::hex(f.data().data(), f.size())).str());
        }
        if (!ok) ++errors_;
        return ok;
    }

    // Compares the reader's metadata with the expectation (after the first frame: no semaphore
    // announces metadata, contract §4).
    void check_metadata(const zb::Reader& reader, Run& run) {
        const auto md = reader.metadata();
        metadata_size_ = md.size();
        if (!metadata_.present) return;
        const auto written = reader.health().metadata_written_bytes;
        bool ok = written == 8 + metadata_.bytes.size() && md.size() == metadata_.bytes.size() &&
                  (md.empty() || std::memcmp(md.data(), metadata_.bytes.data(), md.size()) == 0);
        metadata_ok_ = ok;
        if (!ok) {
            ++errors_;
            run.error("metadata (" + metadata_.source + "): got " + std::to_string(md.size()) +
                      " bytes (metadata_written_bytes " + std::to_string(written) + "), expected " +
                      std::to_string(metadata_.bytes.size()) + " bytes");
        }
    }

    std::uint64_t errors() const noexcept { return errors_; }
    std::uint64_t restarts() const noexcept { return restarts_; }
    std::uint64_t metadata_size() const noexcept { return metadata_size_; }
    std::optional<bool> metadata_ok() const noexcept { return metadata_ok_; }
    std::string checksums_json() const {
        std::string s = "[";
        for (std::size_t i = 0; i < checksums_.size(); ++i) s += (i ? ", " : "") + checksums_[i];
        return s + "]";
    }

private:
    PatternSource source_;
    SizeSchedule sizes_;
    bool check_sequence_;
    bool allow_restart_;
    std::uint64_t last_sequence_ = 0;
    std::uint64_t restarts_ = 0;
    MetadataChoice metadata_;
    bool checksum_;
    std::uint64_t errors_ = 0;
    std::uint64_t shown_ = 0;
    std::uint64_t metadata_size_ = 0;
    std::optional<bool> metadata_ok_;
    std::vector<std::string> checksums_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
int cmd_reader(int argc, char** argv) {
    ArgParser p(kProgram, "reader", "Create BUFFER as its reader, read frames and verify them.");
    p.positional("BUFFER", "buffer name");
    p.option("n", "frames", "N", "frames to read; 0 = until the writer leaves or a read times out", "1000");
    p.option("s", "size", "N", "expected frame size; 0 = any", "0");
    p.option("", "sizes", "SPEC", "expected per-frame sizes: mixed:MIN:MAX:SEED, list:A,B,..., file:PATH");
    p.option("", "verify", "NAME", "expected content: none, sequential, zero or ones", "none");
    p.option("", "timeout-ms", "MS", "how long one read may wait", "5000");
    p.option("", "first-timeout-ms", "MS", "how long the first read may wait (the writer's start-up); default --timeout-ms");
    p.option("", "delay-ms", "MS", "hold each frame this long before releasing it (a slow reader)", "0");
    p.option("", "batch-size", "N", "accepted for compatibility with the upstream readers; ignored", "1");
    p.flag("", "checksum", "record the MD5 of the first 100 frames");
    p.flag("", "allow-writer-restart",
           "writers may come and go: after one leaves, wait up to --timeout-ms for the next, whose sequence "
           "starts again at 1; content is checked by sequence");
    p.flag("", "expect-writer-death",
           "after the frames (all of them with -n 0) the writer must be reported gone within --timeout-ms");
    add_metadata_options(p, "expected");
    add_buffer_options(p);
    add_output_options(p);
    if (!p.parse_or_print_help(argc, argv, 2)) return kExitOk;
    const std::string name = p.arg(0);
    const auto frames = static_cast<std::uint64_t>(p.get_int("frames", 0, INT64_MAX));
    const SizeSchedule sizes = schedule_from(p, true);
    const Pattern pattern = parse_pattern(p.get("verify"), true);
    const auto timeout = milliseconds(p.get_int("timeout-ms", 1, 3600000));
    const auto first_timeout =
        p.has("first-timeout-ms") ? milliseconds(p.get_int("first-timeout-ms", 1, 3600000)) : timeout;
    const auto delay = p.get_int("delay-ms", 0, 3600000);
    (void)p.get_int("batch-size", 1, INT32_MAX);
    const bool expect_writer_death = p.has("expect-writer-death");
    const bool allow_restart = p.has("allow-writer-restart");
    const zb::BufferConfig config = buffer_config_from(p);
    Verifier verifier(pattern, sizes, !p.has("no-sequence-check"), allow_restart, metadata_from(p),
                      p.has("checksum"));

    Run run;
    run.json = p.has("json-output");
    run.verbose = p.has("verbose");
    install_stop_handlers();

    std::uint64_t read = 0, bytes = 0, first_sequence = 0, last_sequence = 0;
    bool writer_gone = false;
    std::string exc_type, health;
    double duration = 0;
    int code = kExitOk;
    try {
        zb::Reader reader(name, config, reader_options_from(p));
        run.log("created '" + name + "'");
        signal_ready(p, name);
        Clock::time_point t0{};
        try {
            while ((frames == 0 || read < frames) && !g_stop) {
                zb::Frame f;
                if (allow_restart) {
                    // A writer leaving is not the end: wait (up to the timeout) for its replacement.
                    const auto give_up = Clock::now() + timeout;
                    for (;;) {
                        try {
                            f = read_with_timeout(reader, std::chrono::duration_cast<milliseconds>(give_up - Clock::now()));
                            break;
                        } catch (const zb::WriterDeadException&) {
                            if (Clock::now() >= give_up || g_stop) throw;
                            sleep_ms(10);
                        }
                    }
                } else {
                    f = read_with_timeout(reader, read == 0 ? first_timeout : timeout);
                }
                if (!f.valid()) {
                    if (g_stop) break;
                    if (frames == 0 && !expect_writer_death) break;  // the stream ended by timeout
                    run.error("no frame within " + std::to_string(timeout.count()) + " ms after " + std::to_string(read) +
                              " frames");
                    break;
                }
                if (read == 0) {
                    t0 = Clock::now();
                    first_sequence = f.sequence();
                    verifier.check_metadata(reader, run);
                }
                verifier.check(read, f, run);
                last_sequence = f.sequence();
                ++read;
                bytes += f.size();
                if (run.verbose && read % 1000 == 0) run.log("read " + std::to_string(read) + " frames");
                sleep_ms(delay);
                f.release();
            }
            duration = read > 0 ? seconds_since(t0) : 0.0;
            if (expect_writer_death && run.errors.empty() && !g_stop) {
                zb::Frame extra = read_with_timeout(reader, timeout);
                if (extra.valid()) {
                    run.error("expected the writer to be gone, got another frame (sequence " +
                              std::to_string(extra.sequence()) + ")");
                } else if (!g_stop) {
                    run.error("the writer's exit was not reported within " + std::to_string(timeout.count()) + " ms");
                }
            }
        } catch (const zb::WriterDeadException& e) {
            duration = read > 0 ? seconds_since(t0) : 0.0;
            writer_gone = true;
            run.log("writer gone: " + std::string(e.what()));
            if (frames != 0 && read < frames) {
                exc_type = exception_type(e);
                run.error("after " + std::to_string(read) + " of " + std::to_string(frames) + " frames: " + describe(e));
            }
        } catch (const zb::ZeroBufferException& e) {  // SequenceError, CorruptBufferException, ...
            duration = read > 0 ? seconds_since(t0) : 0.0;
            exc_type = exception_type(e);
            run.error("after " + std::to_string(read) + " frames: " + describe(e));
        }
        health = health_json(reader.health()).str();
        reader.close();
    } catch (const std::exception& e) {
        code = run.failed(e, exc_type);
    }
    if (code == kExitOk && (verifier.errors() > 0 || !run.errors.empty())) code = kExitErrors;

    Json j;
    j.field("operation", "read")
        .field("buffer_name", name)
        .field("frames_read", read)
        .field("frame_size", sizes.size(0))
        .field("sizes", sizes.describe())
        .field("bytes_read", bytes)
        .field("metadata_size", verifier.metadata_size());
    if (verifier.metadata_ok()) {
        j.field("metadata_ok", *verifier.metadata_ok());
    } else {
        j.field_null("metadata_ok");
    }
    j.field("duration_seconds", duration)
        .field("throughput_mbps", mib_per_second(bytes, duration))
        .field("verification_errors", verifier.errors())
        .field("writer_restarts", verifier.restarts())
        .raw("checksums", verifier.checksums_json())
        .field("first_sequence", first_sequence)
        .field("last_sequence", last_sequence)
        .field("writer_gone", writer_gone)
        .field("exception_type", exc_type)
        .field("reader_pid", static_cast<std::int64_t>(::getpid()))
        .raw("health", health.empty() ? "null" : health)
        .strings("errors", run.errors);
    std::ostringstream human;
    human << "[READER] read " << read << " frames (" << bytes << " bytes) in " << duration << " s, "
          << mib_per_second(bytes, duration) << " MiB/s, " << verifier.errors() << " verification errors"
          << (writer_gone ? "; the writer is gone" : "");
    run.emit(j, human.str());
    return code;
}

}  // namespace interop
