// zerobuffer demo: the reader role. It creates the buffer, checks every frame, shows live
// figures and prints a summary.
#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

#include "demo.h"
#include "latency_histogram.h"

namespace demo {
namespace {

std::string format_ns(std::uint64_t ns) {
    char buf[32];
    if (ns < 1'000) std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
    else if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.1f us", static_cast<double>(ns) / 1e3);
    else std::snprintf(buf, sizeof buf, "%.2f ms", static_cast<double>(ns) / 1e6);
    return buf;
}

}  // namespace

int run_reader(const Options& o) {
    zb::BufferConfig config;
    config.payload_size = o.ring_mib * 1024 * 1024;
    config.metadata_size = 1024;
    const std::uint64_t started = now_ns();  // before the buffer exists, so before any timestamp
    zb::Reader reader(o.name, config);

    const bool tty = isatty(STDOUT_FILENO) != 0;
    const std::uint64_t report_every = tty ? 250'000'000ull : 1'000'000'000ull;

    std::uint64_t frames = 0, bytes = 0, errors = 0, error_reports = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
    std::uint64_t interval_frames = 0, interval_bytes = 0, interval_start = 0;
    LatencyHistogram total_latency, interval_latency;
    bool ended = false, writer_seen = false;
    std::string outcome;

    auto report_error = [&](const char* fmt, auto... args) {
        ++errors;
        if (++error_reports <= 10) {
            if (tty) std::fputs("\r\033[K", stdout);
            std::printf("ERROR: ");
            std::printf(fmt, args...);
            std::printf("\n");
            std::fflush(stdout);
        }
    };
    auto live_line = [&](std::uint64_t now) {
        const double dt = static_cast<double>(now - interval_start) / 1e9;
        if (dt <= 0) return;
        std::printf("%s[%5.1fs] %7.0f frames/s  %6.2f GB/s  latency p50 %-9s p99 %-9s frames %llu  errors %llu%s",
                    tty ? "\r\033[K" : "", static_cast<double>(now - first_ns) / 1e9,
                    static_cast<double>(interval_frames) / dt, static_cast<double>(interval_bytes) / dt / 1e9,
                    format_ns(interval_latency.percentile(50)).c_str(),
                    format_ns(interval_latency.percentile(99)).c_str(),
                    static_cast<unsigned long long>(frames), static_cast<unsigned long long>(errors),
                    tty ? "" : "\n");
        std::fflush(stdout);
        interval_frames = interval_bytes = 0;
        interval_latency.clear();
        interval_start = now;
    };

    std::printf("reader: buffer '%s', ring %zu MiB, waiting for the writer...\n", o.name.c_str(), o.ring_mib);
    std::fflush(stdout);

    while (!stop_requested() && !ended) {
        zb::Frame frame;
        try {
            frame = reader.read_frame(std::chrono::milliseconds(100));
        } catch (const zb::WriterDeadException&) {
            outcome = "writer left before its end-of-stream frame";
            ++errors;
            break;
        } catch (const zb::SequenceError& e) {
            report_error("%s", e.what());
            continue;
        }
        const std::uint64_t received = now_ns();
        if (!frame) {
            if (!writer_seen && static_cast<double>(received - started) / 1e9 > o.connect_timeout) {
                outcome = "no writer within the connect timeout";
                ++errors;
                break;
            }
            if (frames > 0 && received - interval_start >= report_every) live_line(received);
            continue;
        }
        if (!writer_seen) {
            writer_seen = true;
            const auto meta = reader.metadata();
            std::printf("reader: writer connected; stream: %.*s\n", static_cast<int>(meta.size()),
                        reinterpret_cast<const char*>(meta.data()));
            first_ns = interval_start = received;
        }

        const std::byte* data = frame.data().data();
        const std::size_t size = frame.size();
        if (size == kEndFrameBytes && load64(data) == kEndMagic) {
            const std::uint64_t sent = load64(data + 8);
            if (sent != frames) report_error("writer sent %llu frames, %llu arrived",
                                             static_cast<unsigned long long>(sent),
                                             static_cast<unsigned long long>(frames));
            ended = true;
            break;
        }
        if (size < kHeaderBytes) {
            report_error("frame %llu has %zu bytes", static_cast<unsigned long long>(frames), size);
            ++frames;
            continue;
        }
        const std::uint64_t stamp = load64(data);
        const std::uint64_t index = load64(data + 8);
        if (index != frames) {
            report_error("frame %llu carries index %llu", static_cast<unsigned long long>(frames),
                         static_cast<unsigned long long>(index));
        }
        if (stamp < started || stamp > received) {
            report_error("frame %llu has an impossible timestamp", static_cast<unsigned long long>(frames));
        } else {
            total_latency.add(received - stamp);
            interval_latency.add(received - stamp);
        }
        if (const PatternCheck check = check_pattern(data, size, index); check.bad_bytes != 0) {
            report_error("frame %llu: %zu wrong bytes, first at offset %zu", static_cast<unsigned long long>(index),
                         check.bad_bytes, check.first_bad);
        }
        frame.release();

        ++frames;
        bytes += size;
        ++interval_frames;
        interval_bytes += size;
        last_ns = received;
        if (received - interval_start >= report_every) live_line(received);
    }
    if (const std::uint64_t now = now_ns(); interval_frames > 0 && now - interval_start >= report_every / 2) live_line(now);
    if (tty && frames > 0) std::printf("\n");

    const bool interrupted = stop_requested() && !ended;
    if (interrupted) outcome = "interrupted";
    if (outcome.empty()) outcome = errors == 0 ? "OK, every byte verified" : "FAILED";

    const double seconds = frames > 1 ? static_cast<double>(last_ns - first_ns) / 1e9 : 0.0;
    std::printf("\nzerobuffer demo summary\n");
    std::printf("  frames      %llu x %zu bytes (ring %zu MiB)\n", static_cast<unsigned long long>(frames),
                frames ? bytes / frames : o.frame_size, o.ring_mib);
    std::printf("  data        %.2f GB in %.2f s\n", static_cast<double>(bytes) / 1e9, seconds);
    if (seconds > 0) {
        std::printf("  throughput  %.0f frames/s, %.2f GB/s\n", static_cast<double>(frames - 1) / seconds,
                    static_cast<double>(bytes - bytes / frames) / seconds / 1e9);
    }
    std::printf("  latency     p50 %s, p99 %s, max %s (commit -> receive)\n",
                format_ns(total_latency.percentile(50)).c_str(), format_ns(total_latency.percentile(99)).c_str(),
                format_ns(total_latency.max()).c_str());
    std::printf("  errors      %llu\n", static_cast<unsigned long long>(errors));
    std::printf("  result      %s\n", outcome.c_str());
    std::fflush(stdout);

    reader.close();
    if (interrupted) return kExitInterrupted;
    return errors == 0 ? 0 : 1;
}

}  // namespace demo
