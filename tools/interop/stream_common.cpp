// Helpers shared by the writer, reader and relay commands.
#include "stream_common.h"

#include <algorithm>
#include <thread>

namespace interop {
namespace zb = zerobuffer;
using std::chrono::milliseconds;

zb::Writer attach_writer(const std::string& name, const zb::WriterOptions& options, milliseconds wait, Run& run) {
    const auto deadline = Clock::now() + wait;
    for (int attempt = 1;; ++attempt) {
        try {
            return zb::Writer(name, options);
        } catch (const zb::BufferNotFoundException& e) {
            if (Clock::now() >= deadline || g_stop) throw;
            if (attempt == 1) run.log("waiting for buffer '" + name + "': " + e.what());
        } catch (const zb::CorruptBufferException& e) {  // a reader is still initialising it
            if (Clock::now() >= deadline || g_stop) throw;
            if (attempt == 1) run.log("waiting for buffer '" + name + "': " + e.what());
        } catch (const zb::ReaderDeadException& e) {  // created, reader PID not stored yet
            if (Clock::now() >= deadline || g_stop) throw;
            if (attempt == 1) run.log("waiting for buffer '" + name + "': " + e.what());
        }
        std::this_thread::sleep_for(milliseconds(10));
    }
}

// read_frame in slices, so that SIGTERM is noticed; an invalid Frame after `timeout`.
zb::Frame read_with_timeout(zb::Reader& reader, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return {};
        zb::Frame f = reader.read_frame(std::min(left, milliseconds(250)));
        if (f.valid() || g_stop) return f;
    }
}

void sleep_ms(std::int64_t ms) {
    if (ms > 0) std::this_thread::sleep_for(milliseconds(ms));
}

SizeSchedule schedule_from(const ArgParser& p, bool reader) {
    if (p.has("sizes")) return SizeSchedule::parse(p.get("sizes"));
    const std::uint64_t s = p.get_size("size");
    if (s == 0) {
        if (reader) return SizeSchedule::any_size();
        throw UsageError("--size must be > 0");
    }
    return SizeSchedule::fixed(s);
}

}  // namespace interop
